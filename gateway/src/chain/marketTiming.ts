import type { Contract } from "ethers";

/**
 * The market's clock as the contracts define it (EnergyMarket's immutables): read from the chain
 * at start, so the gateway can never disagree with the contracts about when an interval closes.
 */
export interface MarketTiming {
  intervalSeconds: bigint;
  gateClosureSeconds: bigint;
  settlementDelaySeconds: bigint;
}

export async function readMarketTiming(market: Contract): Promise<MarketTiming> {
  const [intervalSeconds, gateClosureSeconds, settlementDelaySeconds] = (await Promise.all([
    market.getFunction("intervalSeconds")(),
    market.getFunction("gateClosureSeconds")(),
    market.getFunction("settlementDelaySeconds")(),
  ])) as [bigint, bigint, bigint];
  return { intervalSeconds, gateClosureSeconds, settlementDelaySeconds };
}

/** Interval `t`'s boundaries in unix seconds: gate closure, start, end, and the settlement deadline. */
export function intervalBounds(timing: MarketTiming, t: bigint) {
  const start = t * timing.intervalSeconds;
  const end = start + timing.intervalSeconds;
  return {
    gateClosure: start - timing.gateClosureSeconds,
    start,
    end,
    settlementDeadline: end + timing.settlementDelaySeconds,
  };
}

/** The interval containing `unixSeconds`. */
export function intervalOf(timing: MarketTiming, unixSeconds: bigint): bigint {
  return unixSeconds / timing.intervalSeconds;
}
