import { z } from "zod";

import { cursorCodec, decimalKey, int32Key, pageOf } from "../cursor.js";
import { defineRoute } from "../route.js";
import { addressParam, DEFAULT_LIMIT, limitParam, settlementStatus, uint64Param } from "../schemas.js";
import { SqlConditions } from "../sqlConditions.js";
import { SETTLEMENT_COLUMNS, type SettlementColumns, settlementJson } from "./settlementRows.js";

type TradeRow = {
  interval_index: string;
  batch: number;
  position: number;
  offer_id: string;
  bid_id: string;
  wh: string;
  price: string;
  batch_status: string;
  seller_owner: string | null;
  seller_meter: string | null;
  buyer_owner: string | null;
  buyer_meter: string | null;
  settlement_status: string | null;
  settlement_tx: string | null;
};

// Fills in the order they were submitted, hashed and settled: interval, batch, position.
const tradesCursor = cursorCodec("trades", z.tuple([decimalKey, int32Key, int32Key]));
const settlementsCursor = cursorCodec("settlements", z.tuple([decimalKey, int32Key]));

export const tradesRoute = defineRoute({
  method: "GET",
  path: "/v1/trades",
  tag: "market",
  summary: "Fills with both orders' owners and meters, the clearing price and the batch's settlement status",
  description:
    "`account` matches trades where the address owns the offer or the bid; fromInterval and toInterval are inclusive.",
  query: z
    .strictObject({
      account: addressParam.optional(),
      interval: uint64Param.optional(),
      fromInterval: uint64Param.optional(),
      toInterval: uint64Param.optional(),
      limit: limitParam,
      cursor: tradesCursor.param,
    })
    .refine(
      (q) => q.fromInterval === undefined || q.toInterval === undefined || q.fromInterval <= q.toInterval,
      { path: ["toInterval"], message: "must not be below fromInterval" },
    ),
  response: "TradePage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.account !== undefined) {
      const account = c.param(query.account);
      c.and(`(seller.owner = ${account} OR buyer.owner = ${account})`);
    }
    if (query.interval !== undefined) c.and(`f.interval_index = ${c.param(query.interval)}`);
    if (query.fromInterval !== undefined) c.and(`f.interval_index >= ${c.param(query.fromInterval)}`);
    if (query.toInterval !== undefined) c.and(`f.interval_index <= ${c.param(query.toInterval)}`);
    if (query.cursor !== undefined) {
      const [t, batch, position] = query.cursor;
      c.and(
        `(f.interval_index, f.batch, f.position) > (${c.param(t)}::numeric, ${c.param(batch)}::integer, ${c.param(position)}::integer)`,
      );
    }
    const { rows } = await deps.db.query<TradeRow>(
      `SELECT f.interval_index::text, f.batch, f.position, f.offer_id::text, f.bid_id::text, f.wh::text,
              cl.price::text, b.status AS batch_status,
              seller.owner AS seller_owner, seller.meter AS seller_meter,
              buyer.owner AS buyer_owner, buyer.meter AS buyer_meter,
              s.status AS settlement_status, s.tx_hash AS settlement_tx
       FROM clearing_fills f
       JOIN clearings cl ON cl.interval_index = f.interval_index
       JOIN clearing_batches b ON b.interval_index = f.interval_index AND b.batch = f.batch
       LEFT JOIN orders seller ON seller.order_id = f.offer_id
       LEFT JOIN orders buyer ON buyer.order_id = f.bid_id
       LEFT JOIN batch_settlements s ON s.interval_index = f.interval_index AND s.batch = f.batch
       ${c.where()}
       ORDER BY f.interval_index, f.batch, f.position
       LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(
      rows,
      limit,
      tradesCursor,
      (r) => [r.interval_index, String(r.batch), String(r.position)] as const,
    );
    return {
      items: page.rows.map((r) => ({
        interval: r.interval_index,
        batch: r.batch,
        position: r.position,
        price: r.price,
        wh: r.wh,
        seller: { orderId: r.offer_id, owner: r.seller_owner, meter: r.seller_meter },
        buyer: { orderId: r.bid_id, owner: r.buyer_owner, meter: r.buyer_meter },
        batchStatus: r.batch_status,
        settlementStatus: r.settlement_status,
        settlementTx: r.settlement_tx,
      })),
      nextCursor: page.nextCursor,
    };
  },
});

export const settlementsRoute = defineRoute({
  method: "GET",
  path: "/v1/settlements",
  tag: "market",
  summary: "Settlement of each confirmed clearing batch: status, transaction, attempts and last error",
  query: z.strictObject({
    interval: uint64Param.optional(),
    status: settlementStatus.optional(),
    limit: limitParam,
    cursor: settlementsCursor.param,
  }),
  response: "SettlementPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.interval !== undefined) c.and(`s.interval_index = ${c.param(query.interval)}`);
    if (query.status !== undefined) c.and(`s.status = ${c.param(query.status)}`);
    if (query.cursor !== undefined) {
      const [t, batch] = query.cursor;
      c.and(`(s.interval_index, s.batch) > (${c.param(t)}::numeric, ${c.param(batch)}::integer)`);
    }
    const { rows } = await deps.db.query<SettlementColumns>(
      `SELECT ${SETTLEMENT_COLUMNS("s")} FROM batch_settlements s ${c.where()}
       ORDER BY s.interval_index, s.batch LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, settlementsCursor, (r) => [r.s_interval!, String(r.s_batch)] as const);
    return { items: page.rows.map((r) => settlementJson(r)!), nextCursor: page.nextCursor };
  },
});
