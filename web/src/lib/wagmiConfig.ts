import { defineChain, type Chain } from "viem";
import { createConfig, http, injected } from "wagmi";

import type { Deployment } from "./deployment.js";

/** The chain the deployment lives on, read through this web server's JSON-RPC proxy. */
export function gridmeshChain(deployment: Deployment, rpcUrl: string): Chain {
  return defineChain({
    id: deployment.chainId,
    name:
      deployment.chainId === 31337 ? "GridMesh local (Hardhat)" : `GridMesh (chain ${deployment.chainId})`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/**
 * Injected wallets only (EIP-6963 discovery finds each installed one): the app never sees a key.
 * Reads go through the proxy with JSON-RPC batching; writes through the connected wallet.
 */
export function makeWagmiConfig(deployment: Deployment, rpcUrl: string) {
  const chain = gridmeshChain(deployment, rpcUrl);
  return createConfig({
    chains: [chain],
    connectors: [injected()],
    transports: { [chain.id]: http(rpcUrl, { batch: { wait: 16 } }) },
    multiInjectedProviderDiscovery: true,
    ssr: true,
  });
}
