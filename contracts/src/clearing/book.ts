import type { Address } from "../typedData.js";

/**
 * An open sell offer of the interval being cleared (OrderBook's OfferPlaced, less cancellations):
 * sell up to `wh` at no less than `minPricePerKwh` token base units per kWh.
 */
export interface ClearingOffer {
  id: bigint;
  owner: Address;
  minPricePerKwh: bigint;
  wh: bigint;
}

/** An open buy bid of the interval being cleared (BidPlaced): buy up to `wh` at no more than `maxPricePerKwh`. */
export interface ClearingBid {
  id: bigint;
  owner: Address;
  maxPricePerKwh: bigint;
  wh: bigint;
}

/** The book given to the clearing violates what the contracts guarantee of every order. */
export class ClearingInputError extends Error {
  override name = "ClearingInputError";
  readonly orderId: bigint | undefined;

  constructor(message: string, orderId?: bigint) {
    super(message);
    this.orderId = orderId;
  }
}

/** An order once validated; `owner` indexes `Book.owners`, `price` is the limit. */
export interface BookOrder {
  id: bigint;
  owner: number;
  price: bigint;
  wh: bigint;
  /** Rank by id among all orders of the book: placement order as a number, cheap to compare. */
  seq: number;
}

export interface Book {
  /** Priority order: cheapest first, then earliest placed (lowest id). */
  offers: BookOrder[];
  /** Priority order: dearest first, then earliest placed (lowest id). */
  bids: BookOrder[];
  /** Lower-case addresses: the contract compares owners as addresses, so case must not matter. */
  owners: string[];
  /** Whether each owner has both offers and bids: only those can be caught by self-trade prevention. */
  twoSided: boolean[];
}

// The widths of EnergyMarket's Fill (uint64 ids, uint48 Wh) and of Order.limitPrice (uint96).
const ID_LIMIT = 1n << 64n;
const WH_LIMIT = 1n << 48n;
const PRICE_LIMIT = 1n << 96n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Checks the orders and sorts them into priority order. Order ids are assigned from one counter
 * (OrderBook._nextOrderId) in placement order, so the id is the placement time, exact and unique;
 * block timestamps would be coarser and need the id as a tie-break anyway.
 */
export function readBook(offers: readonly ClearingOffer[], bids: readonly ClearingBid[]): Book {
  const ownerIndex = new Map<string, number>();
  // Owners as spelt in the input: each spelling is checked and lower-cased only once.
  const spelling = new Map<string, number>();
  const owners: string[] = [];
  const sides: number[] = [];

  const read = (id: bigint, owner: string, price: bigint, wh: bigint, side: 1 | 2): BookOrder => {
    if (typeof id !== "bigint" || id < 0n || id >= ID_LIMIT) {
      throw new ClearingInputError(`order id must be a uint64 bigint, got ${String(id)}`);
    }
    // A bid's maximum is at least 1 on-chain (placeBid refuses 0); an offer's minimum may be 0.
    const minPrice = side === 1 ? 0n : 1n;
    if (typeof price !== "bigint" || price < minPrice || price >= PRICE_LIMIT) {
      throw new ClearingInputError(
        `order ${id} price must be a uint96 ≥ ${minPrice}, got ${String(price)}`,
        id,
      );
    }
    if (typeof wh !== "bigint" || wh <= 0n || wh >= WH_LIMIT) {
      throw new ClearingInputError(`order ${id} volume must be a positive uint48, got ${String(wh)}`, id);
    }
    let index = spelling.get(owner);
    if (index === undefined) {
      if (typeof owner !== "string" || !ADDRESS.test(owner)) {
        throw new ClearingInputError(`order ${id} has an invalid owner ${String(owner)}`, id);
      }
      const key = owner.toLowerCase();
      index = ownerIndex.get(key);
      if (index === undefined) {
        index = owners.length;
        ownerIndex.set(key, index);
        owners.push(key);
        sides.push(0);
      }
      spelling.set(owner, index);
    }
    sides[index]! |= side;
    return { id, owner: index, price, wh, seq: 0 };
  };

  const bookOffers = offers.map((o) => read(o.id, o.owner, o.minPricePerKwh, o.wh, 1));
  const bookBids = bids.map((b) => read(b.id, b.owner, b.maxPricePerKwh, b.wh, 2));
  // Sorting by id numbers the orders and finds duplicates without hashing a million bigints.
  sortByKey([...bookOffers, ...bookBids], (o) => o.id, false).forEach((order, seq, all) => {
    if (seq > 0 && all[seq - 1]!.id === order.id) {
      throw new ClearingInputError(`order ${order.id} appears twice`, order.id);
    }
    order.seq = seq;
  });
  // Ids are unique, so both orders are total and the result does not depend on the input order.
  return {
    offers: sortByKey(bookOffers, (o) => o.price, false),
    bids: sortByKey(bookBids, (b) => b.price, true),
    owners,
    twoSided: sides.map((s) => s === 3),
  };
}

/**
 * Sorts by a key of up to 96 bits (ascending or descending), then placement order. The key is
 * compared as two doubles of 48 bits each, both exact: number comparisons are several times
 * cheaper than bigint ones, and sorting is most of the time a large book takes.
 */
function sortByKey(orders: BookOrder[], key: (o: BookOrder) => bigint, descending: boolean): BookOrder[] {
  const sign = descending ? -1 : 1;
  return orders
    .map((order) => {
      const k = key(order);
      return { order, high: Number(k >> 48n), low: Number(BigInt.asUintN(48, k)) };
    })
    .sort((a, b) => sign * (a.high - b.high || a.low - b.low) || a.order.seq - b.order.seq)
    .map((keyed) => keyed.order);
}

/**
 * The lowest price an offer can trade at: EnergyMarket refuses a clearing price of 0, and every
 * bid accepts 1, so an offer asking 0 behaves exactly like one asking 1.
 */
export function tradablePrice(minPricePerKwh: bigint): bigint {
  return minPricePerKwh < 1n ? 1n : minPricePerKwh;
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
