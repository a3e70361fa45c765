import hre from "hardhat";

import { HARDHAT_MNEMONIC } from "./devAccounts.js";

export interface ChainNode {
  rpcUrl: string;
  chainId: number;
  close(): Promise<void>;
}

export interface StartChainNodeParameters {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The genesis block's time (Unix ms): the simulated clock's reading, not the wall clock's. */
  genesisMs: number;
  accounts: number;
}

/**
 * A Hardhat (EDR) JSON-RPC node in this process, with automine, Hardhat's development accounts
 * (as many as the homes need) and its genesis block on the simulated clock.
 */
export async function startChainNode(p: StartChainNodeParameters): Promise<ChainNode> {
  const server = await hre.network.createServer(
    {
      network: "node",
      override: {
        initialDate: new Date(p.genesisMs),
        accounts: { mnemonic: HARDHAT_MNEMONIC, count: p.accounts },
      },
    },
    p.host,
    p.port,
  );
  const { address, port } = await server.listen();
  const rpcUrl = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  const { result } = (await response.json()) as { result: string };
  return { rpcUrl, chainId: Number(result), close: () => server.close() };
}
