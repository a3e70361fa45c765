import type { ClearingFill } from "@gridmesh/contracts";

import type { Database, Queryable } from "../store/database.js";

export type ClearingStatus = "computed" | "submitting" | "finalized" | "empty" | "failed";

export interface StoredClearing {
  interval: bigint;
  price: bigint;
  volumeWh: bigint;
  status: ClearingStatus;
  batches: StoredBatch[];
}

export interface StoredBatch {
  batch: number;
  fillsHash: string;
  status: "pending" | "submitted" | "confirmed";
  submitTx: string | null;
  fills: ClearingFill[];
}

/** The gateway's record of the clearings it computed and submitted (tables clearings, clearing_*). */
export class ClearingStore {
  constructor(readonly db: Database) {}

  async get(interval: bigint, q: Queryable = this.db): Promise<StoredClearing | undefined> {
    const head = await q.query<{ price: string; volume_wh: bigint; status: ClearingStatus }>(
      "SELECT price, volume_wh, status FROM clearings WHERE interval_index = $1",
      [interval],
    );
    const row = head.rows[0];
    if (row === undefined) return undefined;
    const batchRows = await q.query<{
      batch: number;
      fills_hash: string;
      status: StoredBatch["status"];
      submit_tx: string | null;
    }>(
      "SELECT batch, fills_hash, status, submit_tx FROM clearing_batches WHERE interval_index = $1 ORDER BY batch",
      [interval],
    );
    const fillRows = await q.query<{ batch: number; offer_id: string; bid_id: string; wh: bigint }>(
      "SELECT batch, offer_id, bid_id, wh FROM clearing_fills WHERE interval_index = $1 ORDER BY batch, position",
      [interval],
    );
    const batches: StoredBatch[] = batchRows.rows.map((b) => ({
      batch: b.batch,
      fillsHash: b.fills_hash,
      status: b.status,
      submitTx: b.submit_tx,
      fills: [],
    }));
    for (const f of fillRows.rows) {
      batches[f.batch]!.fills.push({
        offerId: BigInt(f.offer_id),
        bidId: BigInt(f.bid_id),
        wh: BigInt(f.wh),
      });
    }
    return {
      interval,
      price: BigInt(row.price),
      volumeWh: BigInt(row.volume_wh),
      status: row.status,
      batches,
    };
  }

  /**
   * Stores a computed clearing with its batches and fills in one transaction; a clearing already
   * stored for the interval wins (another run got there first), and is returned.
   */
  async insert(
    interval: bigint,
    price: bigint,
    volumeWh: bigint,
    batches: readonly { fills: readonly ClearingFill[]; fillsHash: string }[],
  ): Promise<StoredClearing> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO clearings (interval_index, price, volume_wh, batch_count, status)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (interval_index) DO NOTHING`,
        [interval, price, volumeWh, batches.length, batches.length === 0 ? "empty" : "computed"],
      );
      if (inserted.rowCount === 1) {
        for (const [b, batch] of batches.entries()) {
          await tx.query(
            "INSERT INTO clearing_batches (interval_index, batch, fills_hash, status) VALUES ($1, $2, $3, 'pending')",
            [interval, b, batch.fillsHash],
          );
          // One statement per batch: unnest keeps a 500-fill batch to one round trip.
          await tx.query(
            `INSERT INTO clearing_fills (interval_index, batch, position, offer_id, bid_id, wh)
             SELECT $1, $2, p - 1, o, d, w
             FROM unnest($3::numeric[], $4::numeric[], $5::bigint[]) WITH ORDINALITY AS f(o, d, w, p)`,
            [
              interval,
              b,
              batch.fills.map((f) => f.offerId.toString()),
              batch.fills.map((f) => f.bidId.toString()),
              batch.fills.map((f) => f.wh.toString()),
            ],
          );
        }
      }
      return (await this.get(interval, tx))!;
    });
  }

  async markBatchConfirmed(interval: bigint, batch: number, txHash: string | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE clearing_batches SET status = 'confirmed', submit_tx = COALESCE($3, submit_tx), updated_at = now()
         WHERE interval_index = $1 AND batch = $2`,
        [interval, batch, txHash],
      );
      await tx.query(
        `INSERT INTO batch_settlements (interval_index, batch) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [interval, batch],
      );
    });
  }

  async setStatus(interval: bigint, status: ClearingStatus, finalizeTx?: string): Promise<void> {
    await this.db.query(
      `UPDATE clearings SET status = $2, finalize_tx = COALESCE($3, finalize_tx), updated_at = now()
       WHERE interval_index = $1`,
      [interval, status, finalizeTx ?? null],
    );
  }

  /** Intervals whose clearing is computed but not yet finalized on chain, oldest first. */
  async unfinished(): Promise<bigint[]> {
    const { rows } = await this.db.query<{ interval_index: string }>(
      "SELECT interval_index FROM clearings WHERE status IN ('computed', 'submitting') ORDER BY interval_index",
    );
    return rows.map((r) => BigInt(r.interval_index));
  }
}
