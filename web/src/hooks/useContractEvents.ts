"use client";

import { useQuery } from "@tanstack/react-query";
import type { Abi, Address } from "viem";
import { usePublicClient } from "wagmi";

/**
 * Every event of the given names a contract emitted, from the chain itself (no indexer): a
 * contract's whole history is small for a neighbourhood market, and reading it directly keeps
 * these pages honest to the chain.
 */
export function useContractEventLog(address: Address | null, abi: Abi, eventNames: readonly string[]) {
  const client = usePublicClient();
  return useQuery({
    queryKey: ["events", address, eventNames.join()],
    enabled: client !== undefined && address !== null,
    refetchInterval: 4_000,
    queryFn: async () => {
      const logs = await client!.getContractEvents({
        address: address!,
        abi,
        fromBlock: 0n,
        toBlock: "latest",
      });
      return logs.filter((l) => eventNames.includes((l as { eventName: string }).eventName)) as unknown as {
        eventName: string;
        args: Record<string, unknown>;
        blockNumber: bigint;
      }[];
    },
  });
}
