"use client";

import { useChainTime } from "../hooks/useChainTime.js";
import { useDeployment } from "./Providers.js";
import { formatTime } from "../lib/format.js";

/** The chain's time and the current interval: in the demo this clock runs compressed. */
export function ChainClock() {
  const { now, blockNumber } = useChainTime();
  const { market } = useDeployment();
  if (now === undefined) return <span className="clock">chain: connecting…</span>;
  return (
    <span className="clock" data-testid="chain-clock">
      {formatTime(now)} · interval {Math.floor(now / market.intervalSeconds)} · block{" "}
      {blockNumber?.toString()}
    </span>
  );
}
