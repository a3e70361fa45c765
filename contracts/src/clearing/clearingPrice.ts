import { type Book, min, tradablePrice } from "./book.js";

export interface ClearingPoint {
  price: bigint;
  volumeWh: bigint;
}

/**
 * The most volume any uniform price can trade without self-trades, and the lowest price that
 * trades it (0n, 0n when nothing can trade).
 *
 * At price p let S and D be the eligible supply (offers asking ≤ p) and demand (bids offering
 * ≥ p), and s_a, d_a owner a's shares of them. The most that can be paired with no offer and bid
 * of one owner together is
 *
 *     V(p) = min(S, D, min over owners a of (S − s_a) + (D − d_a))
 *
 * — the minimum cut of the flow network source → offers → bids of other owners → sink (cutting
 * every offer costs S, every bid D, and sparing offers of a single owner a still forces cutting
 * every bid not of a). Owners with only one side never bind the third term, which is why only
 * two-sided owners are tracked.
 *
 * Between two consecutive offer prices S and every s_a are constant while D and every d_a can
 * only fall as p rises, so V is highest at an offer price: those are the only candidates.
 */
export function findClearingPrice(book: Book): ClearingPoint {
  const { offers, bids, twoSided } = book;
  const slot = new Int32Array(twoSided.length).fill(-1);
  let slots = 0;
  twoSided.forEach((isTwoSided, owner) => {
    if (isTwoSided) slot[owner] = slots++;
  });
  const ownerVolume = new MaxTree(slots);

  // Every bid accepts the lowest candidate (every bid's maximum is ≥ 1).
  let demand = 0n;
  for (const bid of bids) {
    demand += bid.wh;
    const s = slot[bid.owner]!;
    if (s >= 0) ownerVolume.add(s, bid.wh);
  }

  let supply = 0n;
  let best: ClearingPoint = { price: 0n, volumeWh: 0n };
  let nextBid = bids.length - 1; // bids are dearest first: walk from the cheapest
  for (let i = 0; i < offers.length;) {
    const price = tradablePrice(offers[i]!.price);
    for (; i < offers.length && tradablePrice(offers[i]!.price) === price; i++) {
      const offer = offers[i]!;
      supply += offer.wh;
      const s = slot[offer.owner]!;
      if (s >= 0) ownerVolume.add(s, offer.wh);
    }
    for (; nextBid >= 0 && bids[nextBid]!.price < price; nextBid--) {
      const bid = bids[nextBid]!;
      demand -= bid.wh;
      const s = slot[bid.owner]!;
      if (s >= 0) ownerVolume.add(s, -bid.wh);
    }
    // Demand only falls from here on and bounds V: no later price can do strictly better.
    if (demand <= best.volumeWh) break;
    const volumeWh = min(min(supply, demand), supply + demand - ownerVolume.max());
    // Strictly greater: on a tie the lower price, reached first, stays.
    if (volumeWh > best.volumeWh) best = { price, volumeWh };
  }
  return best;
}

/** The maximum over a fixed set of slots, each changed by deltas, in O(log n) per change. */
class MaxTree {
  private readonly leaves: number;
  private readonly node: bigint[];

  constructor(slots: number) {
    let leaves = 1;
    while (leaves < slots) leaves *= 2;
    this.leaves = leaves;
    this.node = new Array<bigint>(2 * leaves).fill(0n);
  }

  add(slot: number, delta: bigint): void {
    const node = this.node;
    let i = slot + this.leaves;
    const value = node[i]! + delta;
    node[i] = value;
    // Stop as soon as an ancestor's maximum does not change: those above it cannot either.
    if (delta > 0n) {
      for (i >>= 1; i >= 1 && node[i]! < value; i >>= 1) node[i] = value;
      return;
    }
    for (i >>= 1; i >= 1; i >>= 1) {
      const left = node[2 * i]!;
      const right = node[2 * i + 1]!;
      const top = left > right ? left : right;
      if (node[i] === top) return;
      node[i] = top;
    }
  }

  max(): bigint {
    return this.node[1]!;
  }
}
