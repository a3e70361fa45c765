import type { Address, ClearingBid, ClearingOffer } from "@gridmesh/contracts";

import type { Queryable } from "../store/index.js";
import { readIndexedThrough } from "./checkpoint.js";

export interface LoadOrderBookReturnType {
  offers: ClearingOffer[];
  bids: ClearingBid[];
  /** The index's checkpoint block and its timestamp (−1 and 0 before anything is indexed). */
  indexedThrough: { block: bigint; timestamp: bigint };
}

/**
 * Interval `interval`'s order book as the clearing takes it: every order placed for it and not
 * cancelled, with its full volume and limit price, by ascending id. Fills do not shrink it: the book
 * is what stood at gate closure, so a clearing recomputed after a crash between two batches comes
 * out the same.
 *
 * The book is whole only once `indexedThrough.timestamp` has reached the interval's gate closure
 * (no later block can hold an order for it). The checkpoint is read before the orders, so an
 * index that advances in between can only add to what that checkpoint promises.
 */
export async function loadOrderBook(db: Queryable, interval: bigint): Promise<LoadOrderBookReturnType> {
  const indexedThrough = await readIndexedThrough(db);
  const { rows } = await db.query<{
    order_id: string;
    side: "offer" | "bid";
    owner: Address;
    limit_price: string;
    max_wh: bigint;
  }>(
    `SELECT order_id, side, owner, limit_price, max_wh FROM orders
     WHERE interval_index = $1 AND status <> 'cancelled' ORDER BY order_id`,
    [interval],
  );
  const offers: ClearingOffer[] = [];
  const bids: ClearingBid[] = [];
  for (const row of rows) {
    const [id, owner, price, wh] = [BigInt(row.order_id), row.owner, BigInt(row.limit_price), row.max_wh];
    if (row.side === "offer") offers.push({ id, owner, minPricePerKwh: price, wh });
    else bids.push({ id, owner, maxPricePerKwh: price, wh });
  }
  return { offers, bids, indexedThrough };
}
