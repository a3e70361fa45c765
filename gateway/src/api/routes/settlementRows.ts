import type { Queryable } from "../../store/index.js";
import { iso } from "../sqlConditions.js";

/** batch_settlements columns under a prefix, as the clearing and settlement routes read them. */
export const SETTLEMENT_COLUMNS = (alias: string) =>
  `${alias}.interval_index::text AS s_interval, ${alias}.batch AS s_batch, ${alias}.status AS s_status,
   ${alias}.tx_hash AS s_tx_hash, ${alias}.attempts AS s_attempts, ${alias}.last_error AS s_last_error,
   ${alias}.updated_at AS s_updated_at`;

export type SettlementColumns = {
  s_interval: string | null;
  s_batch: number | null;
  s_status: string | null;
  s_tx_hash: string | null;
  s_attempts: number | null;
  s_last_error: string | null;
  s_updated_at: Date | null;
};

export type SettlementJson = ReturnType<typeof settlementJson>;

/** The settlement of a batch, or null when the batch has none yet (a LEFT JOIN found no row). */
export function settlementJson(r: SettlementColumns) {
  if (r.s_interval === null) return null;
  return {
    interval: r.s_interval,
    batch: r.s_batch!,
    status: r.s_status!,
    txHash: r.s_tx_hash,
    attempts: r.s_attempts!,
    lastError: r.s_last_error,
    updatedAt: iso(r.s_updated_at!),
  };
}

export interface BatchJson {
  batch: number;
  fillsHash: string | null;
  submitTx: string | null;
  status: string;
  fillCount: number;
  settlement: SettlementJson;
}

/** The batches of the given intervals with their fill counts and settlements, by interval. */
export async function batchesOf(
  q: Queryable,
  intervals: readonly string[],
): Promise<Map<string, BatchJson[]>> {
  const byInterval = new Map<string, BatchJson[]>(intervals.map((t) => [t, []]));
  if (intervals.length === 0) return byInterval;
  const { rows } = await q.query<
    SettlementColumns & {
      interval_index: string;
      batch: number;
      fills_hash: string | null;
      submit_tx: string | null;
      status: string;
      fill_count: number;
    }
  >(
    `SELECT b.interval_index::text, b.batch, b.fills_hash, b.submit_tx, b.status,
            (SELECT count(*) FROM clearing_fills f
             WHERE f.interval_index = b.interval_index AND f.batch = b.batch)::integer AS fill_count,
            ${SETTLEMENT_COLUMNS("s")}
     FROM clearing_batches b
     LEFT JOIN batch_settlements s ON s.interval_index = b.interval_index AND s.batch = b.batch
     WHERE b.interval_index = ANY($1::numeric[])
     ORDER BY b.interval_index, b.batch`,
    [intervals],
  );
  for (const r of rows) {
    byInterval.get(r.interval_index)?.push({
      batch: r.batch,
      fillsHash: r.fills_hash,
      submitTx: r.submit_tx,
      status: r.status,
      fillCount: r.fill_count,
      settlement: settlementJson(r),
    });
  }
  return byInterval;
}
