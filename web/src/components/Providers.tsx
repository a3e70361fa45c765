"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createContext, useContext, useState, type ReactNode } from "react";
import { WagmiProvider } from "wagmi";

import type { Deployment } from "../lib/deployment.js";
import { makeWagmiConfig } from "../lib/wagmiConfig.js";

const DeploymentContext = createContext<Deployment | undefined>(undefined);

/** The deployment the server read from the gateway; every page's contract reads start here. */
export function useDeployment(): Deployment {
  const deployment = useContext(DeploymentContext);
  if (deployment === undefined) throw new Error("useDeployment outside <Providers>");
  return deployment;
}

export function Providers({ deployment, children }: { deployment: Deployment; children: ReactNode }) {
  const [state] = useState(() => {
    // On the server there is no origin; nothing is fetched there, the browser builds its own.
    const origin = typeof window === "undefined" ? "http://localhost" : window.location.origin;
    return {
      wagmi: makeWagmiConfig(deployment, `${origin}/api/rpc`),
      query: new QueryClient({
        defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 1_000 } },
      }),
    };
  });
  return (
    <DeploymentContext.Provider value={deployment}>
      <WagmiProvider config={state.wagmi}>
        <QueryClientProvider client={state.query}>{children}</QueryClientProvider>
      </WagmiProvider>
    </DeploymentContext.Provider>
  );
}
