import type { SignedReading } from "@gridmesh/contracts";

import type { ReadingRow } from "../../store/readingRows.js";
import type { Queryable } from "../../store/index.js";
import type { CheckedReading } from "./readingCheck.js";

export interface StoreHourParameters {
  controllerId: string;
  /** The hour's name (controllerApi.ts `hourName`). */
  hour: string;
  checked: readonly CheckedReading[];
  /** Seconds per reading interval: interval t covers [t × L, (t + 1) × L). */
  intervalSeconds: number;
  /** The utility's Clock time (ms), written as received_at. */
  now: number;
}

export interface StoredHour {
  /** Readings of the hour the CIDB now holds: newly stored plus identical ones it already had. */
  records: number;
  inserted: number;
  duplicates: number;
  rejected: number;
}

/** A stored meter record as compared with a delivered reading: the reading row without its signature. */
type StoredRow = Omit<ReadingRow, "signature">;

/** Rows per statement: one JSON parameter each, well inside both engines' limits. */
const CHUNK = 1000;

/**
 * Stores one controller hour inside the caller's transaction: the good readings into meter_records,
 * the refused ones into rejected_records with their reasons, the hour into usage_hours, and the hour
 * leaves the failed-request queue. Idempotent: the same reading delivered again is a duplicate and
 * changes nothing; a different reading under a stored (meter, sequence) or (meter, interval) is
 * refused with the clash named, so a stored record is never replaced; a refusal already recorded
 * for this hour is not recorded twice.
 */
export async function storeHour(tx: Queryable, p: StoreHourParameters): Promise<StoredHour> {
  const rejections = p.checked.flatMap((c) => (c.ok ? [] : [{ record: c.raw, reason: c.reason }]));
  const accepted = p.checked.flatMap((c) => (c.ok ? [c] : []));
  let inserted = 0;
  let duplicates = 0;
  for (let i = 0; i < accepted.length; i += CHUNK) {
    const chunk = accepted.slice(i, i + CHUNK);
    const stored = await insertRecords(
      tx,
      p,
      chunk.map((c) => c.signed),
    );
    inserted += stored.size;
    // A key the statement inserted stands for the first reading under it; any later one in the
    // same chunk (the controller sent it twice, or a different reading) is checked like the rest.
    const left = chunk.filter((c) => !stored.delete(keyOf(c.signed.reading)));
    if (left.length === 0) continue;
    const existing = await storedNeighbours(
      tx,
      left.map((c) => c.signed),
    );
    for (const c of left) {
      const clash = clashOf(c.signed, existing);
      if (clash === undefined) duplicates++;
      else rejections.push({ record: c.raw, reason: clash });
    }
  }
  if (rejections.length > 0) {
    await tx.query(
      `INSERT INTO rejected_records (controller_id, hour, record, reason, received_at)
       SELECT $1, $2::timestamptz, e.value->'record', e.value->>'reason', $3
       FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS e(value, n)
       WHERE NOT EXISTS (SELECT 1 FROM rejected_records r WHERE r.controller_id = $1 AND r.hour = $2::timestamptz
                         AND r.record = e.value->'record' AND r.reason = e.value->>'reason')
       ORDER BY e.n`,
      [p.controllerId, p.hour, new Date(p.now), JSON.stringify(rejections)],
    );
  }
  const records = inserted + duplicates;
  await tx.query(
    `INSERT INTO usage_hours (controller_id, hour, records, rejected, acknowledged, received_at)
     VALUES ($1, $2::timestamptz, $3, $4, false, $5)
     ON CONFLICT (controller_id, hour) DO UPDATE
       SET records = EXCLUDED.records, rejected = EXCLUDED.rejected, acknowledged = false,
           received_at = EXCLUDED.received_at`,
    [p.controllerId, p.hour, records, rejections.length, new Date(p.now)],
  );
  await tx.query("DELETE FROM failed_requests WHERE controller_id = $1 AND hour = $2::timestamptz", [
    p.controllerId,
    p.hour,
  ]);
  return { records, inserted, duplicates, rejected: rejections.length };
}

/** Both of a record's keys, so a returned row names exactly the reading that made it. */
const keyOf = (r: { meter: string; sequence: bigint | string; interval: bigint | string }) =>
  `${r.meter.toLowerCase()}/${r.sequence}/${r.interval}`;

/** Inserts what does not clash with a stored record; returns the keys of the rows inserted. */
async function insertRecords(
  tx: Queryable,
  p: StoreHourParameters,
  chunk: readonly SignedReading[],
): Promise<Set<string>> {
  const rows = chunk.map(({ reading: r, signature }) => ({
    meter: r.meter.toLowerCase(),
    sequence: r.sequence.toString(),
    interval_index: r.interval.toString(),
    import_start_wh: r.importStartWh.toString(),
    import_end_wh: r.importEndWh.toString(),
    export_start_wh: r.exportStartWh.toString(),
    export_end_wh: r.exportEndWh.toString(),
    reading_timestamp: r.timestamp.toString(),
    signature: signature.slice(2).toLowerCase(),
  }));
  // ON CONFLICT without a target covers both keys: (meter, sequence) and (meter, interval_index).
  const { rows: stored } = await tx.query<{ meter: string; sequence: bigint; interval_index: bigint }>(
    `INSERT INTO meter_records (meter, sequence, interval_index, start_time, end_time, import_start_wh, import_end_wh,
       export_start_wh, export_end_wh, reading_timestamp, signature, controller_id, received_at)
     SELECT u.meter, u.sequence, u.interval_index, to_timestamp(u.interval_index * $2::bigint),
            to_timestamp((u.interval_index + 1) * $2::bigint), u.import_start_wh, u.import_end_wh, u.export_start_wh,
            u.export_end_wh, u.reading_timestamp, decode(u.signature, 'hex'), $1, $3
     FROM jsonb_to_recordset($4::jsonb) AS u(meter text, sequence bigint, interval_index bigint,
       import_start_wh bigint, import_end_wh bigint, export_start_wh bigint, export_end_wh bigint,
       reading_timestamp bigint, signature text)
     ON CONFLICT DO NOTHING
     RETURNING meter, sequence, interval_index`,
    [p.controllerId, p.intervalSeconds, new Date(p.now), JSON.stringify(rows)],
  );
  return new Set(
    stored.map((r) => keyOf({ meter: r.meter, sequence: r.sequence, interval: r.interval_index })),
  );
}

/** Stored records sharing a meter and a sequence or an interval with any of `readings`. */
async function storedNeighbours(tx: Queryable, readings: readonly SignedReading[]): Promise<StoredRow[]> {
  const keys = readings.map(({ reading: r }) => ({
    meter: r.meter.toLowerCase(),
    sequence: r.sequence.toString(),
    interval_index: r.interval.toString(),
  }));
  const { rows } = await tx.query<StoredRow>(
    `SELECT m.meter, m.sequence::text, m.interval_index::text, m.import_start_wh::text, m.import_end_wh::text,
            m.export_start_wh::text, m.export_end_wh::text, m.reading_timestamp::text
     FROM jsonb_to_recordset($1::jsonb) AS k(meter text, sequence bigint, interval_index bigint)
     JOIN meter_records m ON m.meter = k.meter AND (m.sequence = k.sequence OR m.interval_index = k.interval_index)`,
    [JSON.stringify(keys)],
  );
  return rows;
}

/** Why `s` cannot join the stored records, or undefined when it is one of them already. */
function clashOf({ reading: r }: SignedReading, stored: readonly StoredRow[]): string | undefined {
  const meter = r.meter.toLowerCase();
  const [sequence, interval] = [r.sequence.toString(), r.interval.toString()];
  const mine = stored.filter(
    (s) => s.meter === meter && (s.sequence === sequence || s.interval_index === interval),
  );
  const same = mine.find((s) => s.sequence === sequence && s.interval_index === interval);
  // The same reading signed twice is still the same reading: compare what the meter measured.
  if (
    same !== undefined &&
    same.import_start_wh === r.importStartWh.toString() &&
    same.import_end_wh === r.importEndWh.toString() &&
    same.export_start_wh === r.exportStartWh.toString() &&
    same.export_end_wh === r.exportEndWh.toString() &&
    same.reading_timestamp === r.timestamp.toString()
  )
    return undefined;
  const other = mine[0];
  if (other === undefined) return "clashes with a record stored meanwhile"; // unreachable inside one transaction
  return (
    `a different reading is stored for meter ${meter}: sequence ${other.sequence} of interval ` +
    `${other.interval_index} (this one: sequence ${sequence} of interval ${interval})`
  );
}
