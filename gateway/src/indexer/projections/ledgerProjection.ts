import { argOf } from "../chainEvent.js";
import { KEYS, keysParam, type Projection } from "./projection.js";

/** Rows of a `$n` JSON array of `{ meter, t }` keys. */
const keysIn = (param: string) =>
  `(SELECT k->>'meter' AS meter, (k->>'t')::numeric AS t FROM jsonb_array_elements(${param}::jsonb) k)`;

/**
 * What the DeliveryLedger recorded, per meter and interval: `chain_readings` (ReadingRecorded,
 * also copied to `readings.recorded_tx` of the matching stored reading) and `delivery_obligations`
 * (ObligationAdded, summed per market). Partitioned by (meter, interval).
 */
export const ledgerProjection: Projection = {
  name: "ledger",
  events: new Set(["ReadingRecorded", "ObligationAdded"]),

  async apply(tx, event) {
    const meter = argOf(event, "meter");
    const interval = argOf(event, "interval");
    switch (event.name) {
      case "ReadingRecorded": {
        const sequence = argOf(event, "sequence");
        await tx.query(
          `INSERT INTO chain_readings (meter, interval_index, sequence, imported_wh, exported_wh, import_end_wh,
             export_end_wh, block_number, tx_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            meter,
            interval,
            sequence,
            ...["importedWh", "exportedWh", "importEndWh", "exportEndWh"].map((name) => argOf(event, name)),
            event.blockNumber,
            event.txHash,
          ],
        );
        await tx.query(
          "UPDATE readings SET recorded_tx = $4 WHERE meter = $1 AND interval_index = $2 AND sequence = $3",
          [meter, interval, sequence, event.txHash],
        );
        return;
      }
      case "ObligationAdded":
        await tx.query(
          `INSERT INTO delivery_obligations (meter, interval_index, market, wh) VALUES ($1, $2, $3, $4)
           ON CONFLICT (meter, interval_index, market) DO UPDATE SET wh = delivery_obligations.wh + EXCLUDED.wh`,
          [meter, interval, argOf(event, "market"), argOf(event, "wh")],
        );
        return;
    }
  },

  partitionOf(_tx, event) {
    return Promise.resolve({ meter: argOf(event, "meter"), t: argOf(event, "interval") });
  },

  async clear(tx, partitions) {
    if (partitions === "all") {
      await tx.query("DELETE FROM chain_readings");
      await tx.query("DELETE FROM delivery_obligations");
      await tx.query("UPDATE readings SET recorded_tx = NULL WHERE recorded_tx IS NOT NULL");
      return;
    }
    const keys = keysParam(partitions);
    for (const table of ["chain_readings", "delivery_obligations"]) {
      await tx.query(
        `DELETE FROM ${table} WHERE (meter, interval_index) IN (SELECT meter, t FROM ${keysIn("$1")} k)`,
        [keys],
      );
    }
    await tx.query(
      `UPDATE readings SET recorded_tx = NULL
       WHERE recorded_tx IS NOT NULL AND (meter, interval_index) IN (SELECT meter, t FROM ${keysIn("$1")} k)`,
      [keys],
    );
  },

  partitionFilter: `(e.args->>'meter', e.args->>'interval') IN
    (SELECT k->>'meter', k->>'t' FROM jsonb_array_elements(${KEYS}::jsonb) k)`,
};
