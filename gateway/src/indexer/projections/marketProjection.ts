import type { Queryable } from "../../store/index.js";
import { argOf, type ChainEvent, eventPosition } from "../chainEvent.js";
import { ChainIndexerError } from "../chainIndexerError.js";
import { KEYS, keysParam, type Projection } from "./projection.js";

/** Interval numbers from a `$n` JSON array of `{ t }` keys, as text (JSON arguments) or numeric (columns). */
const intervalsIn = (param: string) => `ARRAY(SELECT k->>'t' FROM jsonb_array_elements(${param}::jsonb) k)`;
const intervalNumbersIn = (param: string) =>
  `ARRAY(SELECT (k->>'t')::numeric FROM jsonb_array_elements(${param}::jsonb) k)`;

/**
 * The spot market per interval: `orders` (placed, cancelled, matched, settled, released; filled,
 * settled and delivered volume) and the clearing as the chain recorded it (`chain_clearings`,
 * `chain_clearing_batches`, `chain_fills`). Partitioned by interval: every EnergyMarket event but
 * OrderReleased names its interval, and an order only ever trades within its own.
 */
export const marketProjection: Projection = {
  name: "market",
  events: new Set([
    "OfferPlaced",
    "BidPlaced",
    "OrderCancelled",
    "OrderReleased",
    "ClearingBatchSubmitted",
    "ClearingFinalized",
    "FillSettled",
    "BatchSettled",
  ]),

  async apply(tx, event) {
    switch (event.name) {
      case "OfferPlaced":
      case "BidPlaced":
        return placeOrder(tx, event);
      case "OrderCancelled":
        await tx.query("UPDATE orders SET status = 'cancelled', updated_at = now() WHERE order_id = $1", [
          argOf(event, "orderId"),
        ]);
        return;
      case "OrderReleased":
        // A release follows a cancellation, the settlement of every fill, or no fill at all.
        await tx.query(
          `UPDATE orders SET released_amount = $2, updated_at = now(),
             status = CASE WHEN status = 'cancelled' THEN 'cancelled'
                           WHEN filled_wh = 0 THEN 'released' ELSE 'settled' END
           WHERE order_id = $1`,
          [argOf(event, "orderId"), argOf(event, "amount")],
        );
        return;
      case "ClearingBatchSubmitted":
        return submitBatch(tx, event);
      case "ClearingFinalized":
        await tx.query(
          "UPDATE chain_clearings SET finalize_tx = $2, batch_count = $3 WHERE interval_index = $1",
          [argOf(event, "interval"), event.txHash, argOf(event, "batches")],
        );
        return;
      case "FillSettled":
        return settleFill(tx, event);
      case "BatchSettled":
        await tx.query(
          "UPDATE chain_clearing_batches SET settle_tx = $3 WHERE interval_index = $1 AND batch = $2",
          [argOf(event, "interval"), argOf(event, "batch"), event.txHash],
        );
        return;
    }
  },

  async partitionOf(tx, event) {
    if (event.name !== "OrderReleased") return { t: argOf(event, "interval") };
    const { rows } = await tx.query<{ t: string }>(
      "SELECT interval_index::text AS t FROM orders WHERE order_id = $1",
      [argOf(event, "orderId")],
    );
    if (rows[0] === undefined) {
      throw new ChainIndexerError(
        `${eventPosition(event)} releases order ${argOf(event, "orderId")}, never placed`,
      );
    }
    return { t: rows[0].t };
  },

  async clear(tx, partitions) {
    if (partitions === "all") {
      await tx.query("DELETE FROM orders");
      await tx.query("DELETE FROM chain_clearings");
      return;
    }
    const keys = keysParam(partitions);
    // Batches and fills go with their clearing (ON DELETE CASCADE).
    await tx.query(`DELETE FROM orders WHERE interval_index = ANY(${intervalNumbersIn("$1")})`, [keys]);
    await tx.query(`DELETE FROM chain_clearings WHERE interval_index = ANY(${intervalNumbersIn("$1")})`, [
      keys,
    ]);
  },

  partitionFilter: `(e.args->>'interval' = ANY(${intervalsIn(KEYS)})
    OR (e.event_name = 'OrderReleased' AND e.args->>'orderId' = ANY(ARRAY(
      SELECT p.args->>'orderId' FROM chain_events p
      WHERE p.event_name IN ('OfferPlaced', 'BidPlaced') AND p.args->>'interval' = ANY(${intervalsIn(KEYS)})))))`,
};

async function placeOrder(tx: Queryable, event: ChainEvent): Promise<void> {
  const offer = event.name === "OfferPlaced";
  await tx.query(
    `INSERT INTO orders (order_id, interval_index, side, owner, meter, max_wh, limit_price, penalty_per_kwh,
       deposit, placed_block, placed_tx)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      argOf(event, "orderId"),
      argOf(event, "interval"),
      offer ? "offer" : "bid",
      argOf(event, "owner"),
      argOf(event, "meter"),
      argOf(event, "maxWh"),
      argOf(event, offer ? "minPricePerKwh" : "maxPricePerKwh"),
      offer ? argOf(event, "penaltyPerKwh") : null,
      argOf(event, offer ? "collateral" : "escrow"),
      event.blockNumber,
      event.txHash,
    ],
  );
}

async function submitBatch(tx: Queryable, event: ChainEvent): Promise<void> {
  const interval = argOf(event, "interval");
  const batch = argOf(event, "batch");
  const fills = event.args.fills;
  if (!Array.isArray(fills) || fills.length === 0) {
    throw new ChainIndexerError(`${eventPosition(event)} has no fills`);
  }
  const fillsJson = JSON.stringify(fills);
  await tx.query(
    `INSERT INTO chain_clearings (interval_index, price, batch_count) VALUES ($1, $2, $3::integer + 1)
     ON CONFLICT (interval_index) DO UPDATE SET batch_count = EXCLUDED.batch_count`,
    [interval, argOf(event, "price"), batch],
  );
  await tx.query(
    `INSERT INTO chain_clearing_batches (interval_index, batch, fills_hash, fill_count, submit_block, submit_tx)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [interval, batch, argOf(event, "fillsHash"), fills.length, event.blockNumber, event.txHash],
  );
  await tx.query(
    `INSERT INTO chain_fills (interval_index, batch, position, offer_id, bid_id, wh)
     SELECT $1, $2, f.n - 1, (f.fill->>'offerId')::numeric, (f.fill->>'bidId')::numeric, (f.fill->>'wh')::bigint
     FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS f(fill, n)`,
    [interval, batch, fillsJson],
  );
  // An order may appear in several fills of a batch; its volume grows by their sum.
  await tx.query(
    `UPDATE orders o SET filled_wh = o.filled_wh + f.wh, status = 'matched', updated_at = now()
     FROM (SELECT id, sum(wh)::bigint AS wh FROM (
             SELECT (x->>'offerId')::numeric AS id, (x->>'wh')::bigint AS wh FROM jsonb_array_elements($1::jsonb) x
             UNION ALL
             SELECT (x->>'bidId')::numeric, (x->>'wh')::bigint FROM jsonb_array_elements($1::jsonb) x) s
           GROUP BY id) f
     WHERE o.order_id = f.id`,
    [fillsJson],
  );
}

/**
 * FillSettled names the interval and the two orders but not the batch: it settles the first fill
 * of that pair not yet settled. The gateway never repeats a pair within an interval, and settleBatch
 * emits a batch's FillSettled events in its fills' order, so the match is exact for its clearings.
 */
async function settleFill(tx: Queryable, event: ChainEvent): Promise<void> {
  const [interval, offerId, bidId, delivered] = ["interval", "offerId", "bidId", "deliveredWh"].map((name) =>
    argOf(event, name),
  );
  const { rows } = await tx.query<{ wh: bigint }>(
    `UPDATE chain_fills f SET delivered_wh = $4, paid = $5, penalty = $6, settle_tx = $7
     FROM (SELECT batch, position FROM chain_fills
           WHERE interval_index = $1 AND offer_id = $2 AND bid_id = $3 AND settle_tx IS NULL
           ORDER BY batch, position LIMIT 1) n
     WHERE f.interval_index = $1 AND f.batch = n.batch AND f.position = n.position
     RETURNING f.wh`,
    [interval, offerId, bidId, delivered, argOf(event, "paid"), argOf(event, "penalty"), event.txHash],
  );
  if (rows[0] === undefined) {
    throw new ChainIndexerError(
      `${eventPosition(event)} settles a fill of orders ${offerId}/${bidId} never submitted`,
      {
        details: { interval },
      },
    );
  }
  await tx.query(
    `UPDATE orders SET settled_wh = settled_wh + $3, delivered_wh = delivered_wh + $4, updated_at = now()
     WHERE order_id IN ($1, $2)`,
    [offerId, bidId, rows[0].wh, delivered],
  );
}
