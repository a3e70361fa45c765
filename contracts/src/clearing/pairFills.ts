import type { Allocation } from "./allocate.js";
import { type Book, max, min } from "./book.js";

/** One fill of a clearing: `wh` sold by offer `offerId` to bid `bidId` (EnergyMarket.Fill). */
export interface ClearingFill {
  offerId: bigint;
  bidId: bigint;
  wh: bigint;
}

/** A run of consecutive traded Wh from one order (an index into Book.offers or Book.bids). */
interface Piece {
  order: number;
  wh: bigint;
}

/**
 * Pairs the allocated sales with the allocated purchases so that no fill joins two orders of one
 * owner, given that no owner's sales plus purchases exceed the total T (allocate ensures it).
 *
 * Think of the T traded Wh as positions 0..T−1 on both sides; position i of the supply line trades
 * with position i of the demand line. Supply is laid out owner by owner in address order, demand
 * in the reverse owner order. Owner a then sells at [X, X + x) and buys at [T − Y − y, T − Y),
 * where X and Y are what owners before it sell and buy: the two overlap only if X + Y < T <
 * X + Y + x + y, which holds for at most one owner c, the one whose share of the 2T traded Wh
 * straddles the middle. Each of c's m overlapping positions then swaps its demand with one of m
 * positions where c neither sells nor buys; there are T − (x_c + y_c) + m ≥ m of them.
 *
 * Returns the fills sorted by offer id, then bid id, one per pair of orders. A new fill starts
 * only where an order on either line ends or the swap cuts the demand line (six cuts at most), so
 * there are fewer than the traded orders plus six.
 */
export function pairFills(
  book: Book,
  { offerWh, bidWh }: Allocation,
  volumeWh: bigint,
  offersById: number[],
  bidsById: number[],
): ClearingFill[] {
  const { offers, bids } = book;
  const traders = tradersByAddress(book, offersById, bidsById);
  const supply = lineUp(offersById, (i) => offers[i]!.owner, traders, offerWh, book.owners.length);
  const demand = lineUp(
    bidsById,
    (i) => bids[i]!.owner,
    traders.slice().reverse(),
    bidWh,
    book.owners.length,
  );

  const sold = new Array<bigint>(book.owners.length).fill(0n);
  const bought = new Array<bigint>(book.owners.length).fill(0n);
  for (const p of supply) sold[offers[p.order]!.owner]! += p.wh;
  for (const p of demand) bought[bids[p.order]!.owner]! += p.wh;

  let rearranged = demand;
  let soldBefore = 0n;
  let boughtBefore = 0n;
  for (const owner of traders) {
    const x = sold[owner]!;
    const y = bought[owner]!;
    const before = soldBefore + boughtBefore;
    if (before < volumeWh && before + x + y > volumeWh) {
      const sells = [soldBefore, soldBefore + x] as const;
      const buys = [volumeWh - boughtBefore - y, volumeWh - boughtBefore] as const;
      const lo = max(sells[0], buys[0]);
      const hi = min(sells[1], buys[1]);
      if (lo < hi) {
        rearranged = swapOverlap(demand, volumeWh, lo, hi, min(sells[0], buys[0]), max(sells[1], buys[1]));
      }
      break;
    }
    soldBefore += x;
    boughtBefore += y;
  }

  // The supply line is never cut, so each offer's fills come out of zip as one run: sorting each
  // run by bid and the runs by offer id sorts them all, with no global sort.
  const runBid: number[] = [];
  const runWh: bigint[] = [];
  const runStart = new Int32Array(offers.length);
  const runEnd = new Int32Array(offers.length);
  zip(supply, rearranged, (offer, bid, wh) => {
    if (runEnd[offer] === 0) runStart[offer] = runBid.length;
    runBid.push(bid);
    runWh.push(wh);
    runEnd[offer] = runBid.length;
  });
  const fills: ClearingFill[] = [];
  for (const offer of offersById) {
    const start = runStart[offer]!;
    const order = Array.from({ length: runEnd[offer]! - start }, (_, k) => start + k);
    if (order.length > 1) order.sort((k, l) => bids[runBid[k]!]!.seq - bids[runBid[l]!]!.seq);
    const offerId = offers[offer]!.id;
    for (const k of order) {
      const bidId = bids[runBid[k]!]!.id;
      const last = fills[fills.length - 1];
      // The swap can give one (offer, bid) pair two stretches; the contract wants one fill each.
      if (last && last.offerId === offerId && last.bidId === bidId) last.wh += runWh[k]!;
      else fills.push({ offerId, bidId, wh: runWh[k]! });
    }
  }
  return fills;
}

/** The owners that trade, in address order. */
function tradersByAddress(book: Book, offersById: number[], bidsById: number[]): number[] {
  const trading = new Uint8Array(book.owners.length);
  for (const i of offersById) trading[book.offers[i]!.owner] = 1;
  for (const i of bidsById) trading[book.bids[i]!.owner] = 1;
  const traders: number[] = [];
  trading.forEach((t, owner) => {
    if (t) traders.push(owner);
  });
  return traders.sort((a, b) => (book.owners[a]! < book.owners[b]! ? -1 : 1));
}

/** One side's traded volume as a line: owner by owner in `ownerOrder`, each owner's orders in id order. */
function lineUp(
  byId: number[],
  ownerOf: (order: number) => number,
  ownerOrder: number[],
  traded: bigint[],
  owners: number,
): Piece[] {
  // A counting sort: linear, and stable, so each owner's orders keep their id order.
  const next = new Int32Array(owners);
  for (const i of byId) next[ownerOf(i)]!++;
  let at = 0;
  for (const owner of ownerOrder) {
    const count = next[owner]!;
    next[owner] = at;
    at += count;
  }
  const line = new Array<Piece>(byId.length);
  for (const i of byId) line[next[ownerOf(i)]!++] = { order: i, wh: traded[i]! };
  return line;
}

/**
 * The demand line with the overlap [lo, hi) exchanged for the first hi − lo positions outside
 * [first, last) — the span where the straddling owner sells or buys — taken after it, then
 * wrapping round to the start.
 */
function swapOverlap(
  demand: Piece[],
  total: bigint,
  lo: bigint,
  hi: bigint,
  first: bigint,
  last: bigint,
): Piece[] {
  const m = hi - lo;
  const after = min(m, total - last); // swap positions [last, last + after)
  const wrapped = m - after; // and [0, wrapped), which fits before `first`
  const line = new Line(demand);
  return [
    ...line.slice(lo + after, hi),
    ...line.slice(wrapped, lo),
    ...line.slice(last, last + after),
    ...line.slice(0n, wrapped),
    ...line.slice(hi, last),
    ...line.slice(lo, lo + after),
    ...line.slice(last + after, total),
  ];
}

/** Pieces laid end to end, cut at any position. */
class Line {
  private readonly starts: bigint[];

  constructor(private readonly pieces: Piece[]) {
    let at = 0n;
    this.starts = pieces.map((p) => {
      const start = at;
      at += p.wh;
      return start;
    });
  }

  slice(from: bigint, to: bigint): Piece[] {
    const out: Piece[] = [];
    if (from >= to) return out;
    // The last piece starting at or before `from`.
    let low = 0;
    let high = this.pieces.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= from) low = mid;
      else high = mid - 1;
    }
    for (let i = low; i < this.pieces.length && this.starts[i]! < to; i++) {
      const start = this.starts[i]!;
      const piece = this.pieces[i]!;
      const wh = min(start + piece.wh, to) - max(start, from);
      if (wh > 0n) out.push({ order: piece.order, wh });
    }
    return out;
  }
}

/** Walks two lines of equal length together, reporting each stretch where both stay on one order. */
function zip(supply: Piece[], demand: Piece[], emit: (offer: number, bid: number, wh: bigint) => void): void {
  let i = 0;
  let j = 0;
  let leftS = supply[0]?.wh ?? 0n;
  let leftD = demand[0]?.wh ?? 0n;
  while (i < supply.length && j < demand.length) {
    const wh = min(leftS, leftD);
    emit(supply[i]!.order, demand[j]!.order, wh);
    leftS -= wh;
    leftD -= wh;
    if (leftS === 0n) leftS = supply[++i]?.wh ?? 0n;
    if (leftD === 0n) leftD = demand[++j]?.wh ?? 0n;
  }
}
