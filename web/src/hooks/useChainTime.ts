"use client";

import { useBlock } from "wagmi";

/**
 * "Now" as the chain sees it: the latest block's timestamp. The contracts judge gate closure by
 * block time, and in the local demo the chain runs on the compressed clock, so the wall clock
 * would be wrong here.
 */
export function useChainTime(): { now: number | undefined; blockNumber: bigint | undefined } {
  const { data } = useBlock({ watch: true, query: { refetchInterval: 1_000 } });
  return { now: data === undefined ? undefined : Number(data.timestamp), blockNumber: data?.number };
}
