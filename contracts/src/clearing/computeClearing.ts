import { allocate } from "./allocate.js";
import { type BookOrder, type ClearingBid, type ClearingOffer, readBook } from "./book.js";
import { findClearingPrice } from "./clearingPrice.js";
import { type ClearingFill, pairFills } from "./pairFills.js";

export interface ComputeClearingParameters {
  /** The interval's open offers, `wh` being what each can still sell (its maxWh before any fill). */
  offers: readonly ClearingOffer[];
  /** The interval's open bids. */
  bids: readonly ClearingBid[];
}

export interface ComputeClearingReturnType {
  /** Uniform price per kWh in token base units; 0n when nothing trades (then nothing is submitted). */
  price: bigint;
  volumeWh: bigint;
  /** Sorted by offer id, then bid id, each pair at most once: ready for EnergyMarket.submitClearing. */
  fills: ClearingFill[];
  /** Traded Wh of every offer that trades, in id order; absent offers trade nothing. */
  offersFilledWh: Map<bigint, bigint>;
  /** Traded Wh of every bid that trades, in id order. */
  bidsFilledWh: Map<bigint, bigint>;
}

/**
 * One interval's uniform-price (pay-as-clear) double auction: the one implementation, run by the
 * gateway to submit clearings and by the audit explorer to recompute them. Pure and integer-only.
 *
 * Guarantees, for any valid book:
 * - Valid on-chain: every fill is positive, joins an offer and a bid of different owners (owners
 *   compared case-insensitively), each offer's minimum ≤ price ≤ each bid's maximum, no order
 *   trades more than its `wh`, and price ≥ 1 whenever anything trades.
 * - Most volume: no uniform price and no self-trade-free pairing trades more (see
 *   findClearingPrice). Self-trade prevention costs volume, against the plain crossing of supply
 *   and demand, only where one owner's accepting offers and bids together exceed both the whole
 *   accepting supply and the whole accepting demand.
 * - Price: the lowest price at which that volume trades. With no self-trade in the way this is the
 *   most expensive traded offer's minimum — seed 001's merit order, where the buyer walks the
 *   offers from the cheapest and the last one taken sets the price (an ask of 0 counts as 1).
 * - Priority: orders accepting the price trade in price priority (cheapest offers, dearest bids),
 *   then placement order (the order id), partially only at the margin — except that if one
 *   owner's offers and bids in priority would together exceed the volume, so that some of it
 *   could only trade with itself, that owner trades the excess less and other owners' next
 *   orders take it over (see allocate).
 * - Deterministic: the result depends only on the set of orders, not their order in the input.
 *
 * Throws ClearingInputError on what the contracts rule out: duplicate ids, zero volume, a bid
 * maximum of 0, values wider than their on-chain types.
 */
export function computeClearing({ offers, bids }: ComputeClearingParameters): ComputeClearingReturnType {
  const book = readBook(offers, bids);
  const { price, volumeWh } = findClearingPrice(book);
  if (volumeWh === 0n) {
    return { price: 0n, volumeWh: 0n, fills: [], offersFilledWh: new Map(), bidsFilledWh: new Map() };
  }
  const allocation = allocate(book, price, volumeWh);
  const offersById = tradedById(book.offers, allocation.offerWh);
  const bidsById = tradedById(book.bids, allocation.bidWh);
  return {
    price,
    volumeWh,
    fills: pairFills(book, allocation, volumeWh, offersById, bidsById),
    offersFilledWh: new Map(offersById.map((i) => [book.offers[i]!.id, allocation.offerWh[i]!])),
    bidsFilledWh: new Map(bidsById.map((i) => [book.bids[i]!.id, allocation.bidWh[i]!])),
  };
}

/** Indices of the orders that trade, in id order. */
function tradedById(orders: BookOrder[], traded: bigint[]): number[] {
  const indices: number[] = [];
  traded.forEach((wh, i) => {
    if (wh > 0n) indices.push(i);
  });
  return indices.sort((i, j) => orders[i]!.seq - orders[j]!.seq);
}
