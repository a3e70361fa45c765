import { z } from "zod";

import { ApiError } from "../apiError.js";
import { cursorCodec, decimalKey, pageOf } from "../cursor.js";
import { defineRoute } from "../route.js";
import { clearingStatus, DEFAULT_LIMIT, limitParam, uint64Param } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";
import { batchesOf } from "./settlementRows.js";

type ClearingRow = {
  interval_index: string;
  price: string;
  volume_wh: string;
  batch_count: number;
  status: string;
  last_error: string | null;
  finalize_tx: string | null;
  created_at: Date;
  updated_at: Date;
};

type FillJson = { position: number; offerId: string; bidId: string; wh: string };

const CLEARING_COLUMNS = `interval_index::text, price::text, volume_wh::text, batch_count, status, last_error,
  finalize_tx, created_at, updated_at`;

function clearingJson(r: ClearingRow) {
  return {
    interval: r.interval_index,
    price: r.price,
    volumeWh: r.volume_wh,
    batchCount: r.batch_count,
    status: r.status,
    lastError: r.last_error,
    finalizeTx: r.finalize_tx,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

const clearingsCursor = cursorCodec("clearings", z.tuple([decimalKey]));

export const clearingsRoute = defineRoute({
  method: "GET",
  path: "/v1/clearings",
  tag: "market",
  summary: "Clearings by interval (from and to inclusive), with their batches and settlement status",
  query: z
    .strictObject({
      from: uint64Param.optional(),
      to: uint64Param.optional(),
      status: clearingStatus.optional(),
      limit: limitParam,
      cursor: clearingsCursor.param,
    })
    .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
      path: ["to"],
      message: "must not be below from",
    }),
  response: "ClearingPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.from !== undefined) c.and(`interval_index >= ${c.param(query.from)}`);
    if (query.to !== undefined) c.and(`interval_index <= ${c.param(query.to)}`);
    if (query.status !== undefined) c.and(`status = ${c.param(query.status)}`);
    if (query.cursor !== undefined) c.and(`interval_index > ${c.param(query.cursor[0])}::numeric`);
    const { rows } = await deps.db.query<ClearingRow>(
      `SELECT ${CLEARING_COLUMNS} FROM clearings ${c.where()} ORDER BY clearings.interval_index LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, clearingsCursor, (r) => [r.interval_index] as [string]);
    const batches = await batchesOf(
      deps.db,
      page.rows.map((r) => r.interval_index),
    );
    return {
      items: page.rows.map((r) => ({ ...clearingJson(r), batches: batches.get(r.interval_index) ?? [] })),
      nextCursor: page.nextCursor,
    };
  },
});

export const clearingRoute = defineRoute({
  method: "GET",
  path: "/v1/clearings/{interval}",
  tag: "market",
  summary: "One interval's clearing with every batch, its fills and its settlement status",
  params: z.strictObject({ interval: uint64Param }),
  response: "Clearing",
  errors: [404],
  async handle({ params, deps }) {
    const interval = params.interval.toString();
    // One snapshot across the three reads: the submitter may be rewriting the clearing meanwhile.
    return deps.db.transaction(async (tx) => {
      await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const { rows } = await tx.query<ClearingRow>(
        `SELECT ${CLEARING_COLUMNS} FROM clearings WHERE interval_index = $1`,
        [interval],
      );
      const row = rows[0];
      if (row === undefined) throw new ApiError(404, `no clearing for interval ${interval}`);
      const batches = (await batchesOf(tx, [interval])).get(interval) ?? [];
      const fills = await tx.query<{
        batch: number;
        position: number;
        offer_id: string;
        bid_id: string;
        wh: string;
      }>(
        `SELECT batch, position, offer_id::text, bid_id::text, wh::text FROM clearing_fills
         WHERE interval_index = $1 ORDER BY batch, position`,
        [interval],
      );
      const fillsOf = new Map(batches.map((b) => [b.batch, [] as FillJson[]]));
      for (const f of fills.rows) {
        fillsOf.get(f.batch)?.push({ position: f.position, offerId: f.offer_id, bidId: f.bid_id, wh: f.wh });
      }
      return { ...clearingJson(row), batches: batches.map((b) => ({ ...b, fills: fillsOf.get(b.batch)! })) };
    });
  },
});
