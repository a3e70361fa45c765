import { type Book, type BookOrder, min, tradablePrice } from "./book.js";

/** How much of each order trades, aligned with `Book.offers` and `Book.bids`. */
export interface Allocation {
  offerWh: bigint[];
  bidWh: bigint[];
}

/**
 * Shares `volumeWh` (as found by findClearingPrice for `price`) among the orders that accept
 * `price`, each side in priority order, so that a self-trade-free pairing exists.
 *
 * Such a pairing exists exactly when no owner's sold plus bought volume exceeds the total (the
 * cut argument of findClearingPrice with S = D = total). Two owners cannot both exceed it — their
 * sums would exceed twice the total — so plain priority can break it for at most one owner a. It
 * gives up the excess, and other owners' next orders in priority take the volume over. How the
 * cut splits between a's sales and purchases is no choice: if the total is S, every accepting
 * offer already trades and only a's purchases can yield; if it is D, only its sales; otherwise it
 * is (S − s_a) + (D − d_a), every other owner's accepting volume must trade, and each side yields
 * exactly what the other owners there have spare.
 */
export function allocate(book: Book, price: bigint, volumeWh: bigint): Allocation {
  const offerCount = countWhile(book.offers, (o) => tradablePrice(o.price) <= price);
  const bidCount = countWhile(book.bids, (b) => b.price >= price);
  const offerWh = fillInPriority(book.offers, offerCount, volumeWh);
  const bidWh = fillInPriority(book.bids, bidCount, volumeWh);

  const sold = ownerTotals(book, book.offers, offerWh);
  const bought = ownerTotals(book, book.bids, bidWh);
  let capped: number | undefined;
  for (const [owner, wh] of sold) {
    if (wh + (bought.get(owner) ?? 0n) > volumeWh) capped = owner;
  }
  if (capped === undefined) return { offerWh, bidWh };

  const soldWh = sold.get(capped)!;
  const boughtWh = bought.get(capped)!;
  const excess = soldWh + boughtWh - volumeWh;
  // What other owners' accepting bids can buy beyond what they already do.
  const spareDemand = sideVolume(book.bids, bidCount, capped) - (volumeWh - boughtWh);
  const purchaseCut = min(excess, min(boughtWh, spareDemand));
  const saleCut = excess - purchaseCut;
  return {
    offerWh: fillInPriority(book.offers, offerCount, volumeWh, capped, soldWh - saleCut),
    bidWh: fillInPriority(book.bids, bidCount, volumeWh, capped, boughtWh - purchaseCut),
  };
}

function countWhile(orders: BookOrder[], accepts: (o: BookOrder) => boolean): number {
  let n = 0;
  while (n < orders.length && accepts(orders[n]!)) n++;
  return n;
}

/** Fills the first `count` orders in turn up to `volumeWh`, at most `ownerWh` of it from `owner`. */
function fillInPriority(
  orders: BookOrder[],
  count: number,
  volumeWh: bigint,
  owner = -1,
  ownerWh = 0n,
): bigint[] {
  const filled = new Array<bigint>(orders.length).fill(0n);
  let ownerLeft = ownerWh;
  let othersLeft = volumeWh - ownerWh;
  for (let i = 0; i < count && (othersLeft > 0n || ownerLeft > 0n); i++) {
    const order = orders[i]!;
    if (order.owner === owner) {
      const wh = min(order.wh, ownerLeft);
      filled[i] = wh;
      ownerLeft -= wh;
    } else {
      const wh = min(order.wh, othersLeft);
      filled[i] = wh;
      othersLeft -= wh;
    }
  }
  return filled;
}

/** Traded volume per two-sided owner (only they can exceed the total). */
function ownerTotals(book: Book, orders: BookOrder[], filled: bigint[]): Map<number, bigint> {
  const totals = new Map<number, bigint>();
  filled.forEach((wh, i) => {
    const owner = orders[i]!.owner;
    if (wh > 0n && book.twoSided[owner]) totals.set(owner, (totals.get(owner) ?? 0n) + wh);
  });
  return totals;
}

/** Volume of the first `count` orders not of `owner`. */
function sideVolume(orders: BookOrder[], count: number, owner: number): bigint {
  let wh = 0n;
  for (let i = 0; i < count; i++) if (orders[i]!.owner !== owner) wh += orders[i]!.wh;
  return wh;
}
