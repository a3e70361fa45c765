import {
  computeClearing,
  type Address,
  type ClearingBid,
  type ClearingFill,
  type ClearingOffer,
} from "@gridmesh/contracts";

/** An interval's orders and its submitted clearing, as an auditor reads them from chain events. */
export interface IntervalEvents {
  offers: { orderId: bigint; owner: Address; maxWh: bigint; minPricePerKwh: bigint }[];
  bids: { orderId: bigint; owner: Address; maxWh: bigint; maxPricePerKwh: bigint }[];
  /** OrderCancelled: cancelled before gate closure, so not in the book that was cleared. */
  cancelled: bigint[];
  /** ClearingBatchSubmitted, in any order. */
  batches: { batch: number; price: bigint; fills: readonly ClearingFill[] }[];
}

export interface ClearingAudit {
  recomputed: { price: bigint; volumeWh: bigint; fills: ClearingFill[] };
  onChain: { price: bigint | undefined; volumeWh: bigint; fills: ClearingFill[]; batches: number };
  matches: boolean;
  /** What differs, in words; empty when the clearing matches. */
  differences: string[];
}

const key = (f: ClearingFill) => `${f.offerId}:${f.bidId}`;

/**
 * Recomputes an interval's clearing from its on-chain order events with the one clearing module
 * the gateway runs, and compares it with what the matcher submitted: the same price and exactly
 * the same fills (the contract already refused any fill outside the orders' limits; this checks
 * the matcher chose the auction's result and no other).
 */
export function auditClearing(events: IntervalEvents): ClearingAudit {
  const cancelled = new Set(events.cancelled);
  const offers: ClearingOffer[] = events.offers
    .filter((o) => !cancelled.has(o.orderId))
    .map((o) => ({ id: o.orderId, owner: o.owner, minPricePerKwh: o.minPricePerKwh, wh: o.maxWh }));
  const bids: ClearingBid[] = events.bids
    .filter((b) => !cancelled.has(b.orderId))
    .map((b) => ({ id: b.orderId, owner: b.owner, maxPricePerKwh: b.maxPricePerKwh, wh: b.maxWh }));
  const result = computeClearing({ offers, bids });

  const batches = [...events.batches].sort((a, b) => a.batch - b.batch);
  const onChainFills = batches.flatMap((b) => b.fills);
  const prices = new Set(batches.map((b) => b.price));
  const onChainPrice = batches[0]?.price;
  const differences: string[] = [];
  if (prices.size > 1)
    differences.push(`the batches were submitted at different prices: ${[...prices].join(", ")}`);
  if (result.volumeWh === 0n && batches.length > 0) {
    differences.push("nothing should trade, yet a clearing was submitted");
  } else if (result.volumeWh > 0n && batches.length === 0) {
    differences.push(`${result.volumeWh} Wh should trade at ${result.price}, but no clearing was submitted`);
  } else if (onChainPrice !== undefined && onChainPrice !== result.price) {
    differences.push(`price ${onChainPrice} was submitted; the auction gives ${result.price}`);
  }
  const expected = new Map(result.fills.map((f) => [key(f), f.wh]));
  const submitted = new Map<string, bigint>();
  for (const f of onChainFills) {
    if (submitted.has(key(f))) differences.push(`offer ${f.offerId} and bid ${f.bidId} were filled twice`);
    submitted.set(key(f), f.wh);
  }
  for (const [k, wh] of expected) {
    const got = submitted.get(k);
    const [offer, bid] = k.split(":");
    if (got === undefined)
      differences.push(`offer ${offer} should fill bid ${bid} with ${wh} Wh, but did not`);
    else if (got !== wh)
      differences.push(`offer ${offer} filled bid ${bid} with ${got} Wh; the auction gives ${wh} Wh`);
  }
  for (const [k, wh] of submitted) {
    if (!expected.has(k)) {
      const [offer, bid] = k.split(":");
      differences.push(`offer ${offer} filled bid ${bid} with ${wh} Wh, which the auction does not`);
    }
  }
  return {
    recomputed: { price: result.price, volumeWh: result.volumeWh, fills: result.fills },
    onChain: {
      price: onChainPrice,
      volumeWh: onChainFills.reduce((sum, f) => sum + f.wh, 0n),
      fills: onChainFills,
      batches: batches.length,
    },
    matches: differences.length === 0,
    differences,
  };
}
