import { z } from "zod";

import { signedReadingBatchSchema, signedReadingToJson } from "@gridmesh/contracts";

import { addressKey, cursorCodec, decimalKey, pageOf } from "../cursor.js";
import { handleReadings, MAX_READINGS_BODY_BYTES } from "../readingsEndpoint.js";
import { defineRoute } from "../route.js";
import { addressParam, DEFAULT_LIMIT, ledgerStatus, limitParam, uint64Param } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";
import { READING_COLUMNS, type ReadingRow, signedReadingFromRow } from "../../store/readingRows.js";

type ListedReadingRow = ReadingRow & {
  ledger_status: string;
  ledger_error: string | null;
  recorded_tx: string | null;
  received_at: Date;
};

// A meter's readings in interval order, meters one after another.
const readingsCursor = cursorCodec("readings", z.tuple([addressKey, decimalKey]));

export const readingsRoute = defineRoute({
  method: "GET",
  path: "/v1/readings",
  tag: "readings",
  summary: "Stored signed readings in the shared wire form, with their DeliveryLedger status",
  description: "By meter, then interval; fromInterval and toInterval are inclusive.",
  query: z
    .strictObject({
      meter: addressParam.optional(),
      fromInterval: uint64Param.optional(),
      toInterval: uint64Param.optional(),
      ledgerStatus: ledgerStatus.optional(),
      limit: limitParam,
      cursor: readingsCursor.param,
    })
    .refine(
      (q) => q.fromInterval === undefined || q.toInterval === undefined || q.fromInterval <= q.toInterval,
      { path: ["toInterval"], message: "must not be below fromInterval" },
    ),
  response: "StoredReadingPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.meter !== undefined) c.and(`meter = ${c.param(query.meter)}`);
    if (query.fromInterval !== undefined) c.and(`interval_index >= ${c.param(query.fromInterval)}`);
    if (query.toInterval !== undefined) c.and(`interval_index <= ${c.param(query.toInterval)}`);
    if (query.ledgerStatus !== undefined) c.and(`ledger_status = ${c.param(query.ledgerStatus)}`);
    if (query.cursor !== undefined) {
      const [meter, t] = query.cursor;
      c.and(`(meter, interval_index) > (${c.param(meter)}::text, ${c.param(t)}::numeric)`);
    }
    const { rows } = await deps.db.query<ListedReadingRow>(
      `SELECT ${READING_COLUMNS}, ledger_status, ledger_error, recorded_tx, received_at
       FROM readings ${c.where()} ORDER BY readings.meter, readings.interval_index LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, readingsCursor, (r) => [r.meter, r.interval_index] as [string, string]);
    return {
      items: page.rows.map((r) => ({
        ...signedReadingToJson(signedReadingFromRow(r)),
        ledgerStatus: r.ledger_status,
        ledgerError: r.ledger_error,
        recordedTx: r.recorded_tx,
        receivedAt: iso(r.received_at),
      })),
      nextCursor: page.nextCursor,
    };
  },
});

export const postReadingsRoute = defineRoute({
  method: "POST",
  path: "/v1/readings",
  tag: "readings",
  summary: "Submit signed readings (from meter agents and microgrid controllers)",
  description:
    "Each reading is checked (signature, active meter, sequence, continuity) before it is stored; one receipt " +
    "per reading, in order: stored, duplicate (harmless resend) or rejected with the reason. A malformed " +
    "batch is refused whole.",
  body: signedReadingBatchSchema,
  maxBodyBytes: MAX_READINGS_BODY_BYTES,
  response: "ReadingReceipts",
  errors: [413, 415, 503],
  respond: (req, res, deps) => handleReadings(req, res, deps.intake),
});
