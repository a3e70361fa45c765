"use client";

import { useEffect, useState } from "react";
import { useBlock } from "wagmi";

/**
 * "Now" as the market sees it, by the gateway's rule: the latest block's timestamp or the wall
 * clock, whichever is later. A development node mines only when a transaction comes, so its last
 * block can be old; in the local demo the chain runs ahead on the compressed clock, and then its
 * block time is the one that counts for gate closure.
 */
export function useChainTime(): { now: number | undefined; blockNumber: bigint | undefined } {
  // Polled, not watched: a watch would poll the block number as well, once per caller.
  const { data } = useBlock({ query: { refetchInterval: 1_000 } });
  const [wall, setWall] = useState<number | undefined>(undefined);
  useEffect(() => {
    const tick = () => setWall(Math.floor(Date.now() / 1000));
    tick();
    const timer = setInterval(tick, 1_000);
    return () => clearInterval(timer);
  }, []);
  if (data === undefined || wall === undefined) return { now: undefined, blockNumber: data?.number };
  return { now: Math.max(Number(data.timestamp), wall), blockNumber: data.number };
}
