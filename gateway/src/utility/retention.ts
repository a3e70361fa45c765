import type { Queryable } from "../store/index.js";
import { monthsBefore } from "./statistics/utcMonths.js";

export interface RetentionResult {
  /** Records starting before this instant were deleted. */
  cutoff: string;
  meterRecords: number;
  rejectedRecords: number;
  usageHours: number;
  batteryReports: number;
}

// Each statement deletes one batch through the primary key, so no statement holds locks (or, on the
// embedded engine, the one connection) for long, and a crash mid-way leaves only whole batches done.
const BATCHES = {
  meterRecords: `DELETE FROM meter_records WHERE (meter, sequence) IN
                   (SELECT meter, sequence FROM meter_records WHERE start_time < $1 LIMIT $2)`,
  rejectedRecords: `DELETE FROM rejected_records WHERE id IN
                      (SELECT id FROM rejected_records WHERE hour < $1 LIMIT $2)`,
  usageHours: `DELETE FROM usage_hours WHERE (controller_id, hour) IN
                 (SELECT controller_id, hour FROM usage_hours WHERE hour < $1 LIMIT $2)`,
  batteryReports: `DELETE FROM battery_reports WHERE (meter, taken_at) IN
                     (SELECT meter, taken_at FROM battery_reports
                      WHERE taken_at < extract(epoch FROM $1::timestamptz) LIMIT $2)`,
} as const;

/**
 * Seed 000's six-month retention of fine-grained data: meter records whose interval starts more
 * than `months` calendar months before `now` are deleted, with the refused records and usage hours
 * and the meters' battery reports of that age, in batches of `batchSize`. Usage statistics are kept: they are what five-year
 * averages are made of.
 */
export async function applyRetention(
  db: Queryable,
  options: { now: number; months: number; batchSize: number },
): Promise<RetentionResult> {
  const cutoff = new Date(monthsBefore(options.now, options.months));
  const deleted = { meterRecords: 0, rejectedRecords: 0, usageHours: 0, batteryReports: 0 };
  for (const table of Object.keys(BATCHES) as (keyof typeof BATCHES)[]) {
    for (;;) {
      const { rowCount } = await db.query(BATCHES[table], [cutoff, options.batchSize]);
      deleted[table] += rowCount;
      if (rowCount < options.batchSize) break;
    }
  }
  return { cutoff: cutoff.toISOString(), ...deleted };
}
