import type { Queryable } from "../../store/index.js";
import { addMonths, DAY_MS, dayName, dayStartMs, lastDayOf, monthOf, monthStartMs } from "./utcMonths.js";

export interface MonthStatistics {
  month: string;
  /** The last whole day counted (`YYYY-MM-DD`). */
  throughDay: string;
  controllers: number;
}

/**
 * The previous month is recomputed on each of the first days of a month, not only on the 1st, so
 * that its last hours still count when they reach the utility late (an outage over midnight drains
 * through the FRQ within hours; seed 000 §3.1's storm lasts twelve).
 */
export const PREVIOUS_MONTH_DAYS = 7;

/**
 * Seed 000's Compute_statistics, run daily: per controller and month, generation = Σ export_wh,
 * consumption = Σ import_wh and contribution = generation − consumption over meter_records, upserted
 * into usage_statistics. Only whole UTC days count (records starting before today's midnight), so a
 * month's row is exact through its through_day. On the 1st the current month has no whole day yet
 * and is left alone; the previous month is recomputed in full during the month's first
 * PREVIOUS_MONTH_DAYS days. A record belongs to the month its interval starts in.
 */
export async function computeStatistics(
  db: Queryable,
  options: { now: number; months?: readonly string[] },
): Promise<MonthStatistics[]> {
  const today = dayStartMs(options.now);
  const current = monthOf(options.now);
  const months = options.months ?? [
    ...(today - monthStartMs(current) < PREVIOUS_MONTH_DAYS * DAY_MS ? [addMonths(current, -1)] : []),
    ...(today > monthStartMs(current) ? [current] : []),
  ];
  const results: MonthStatistics[] = [];
  for (const month of months) {
    const start = monthStartMs(month);
    if (start >= today) throw new RangeError(`month ${month} has no whole day before ${dayName(today)}`);
    const end = Math.min(monthStartMs(addMonths(month, 1)), today);
    const throughDay = end === today ? dayName(today - DAY_MS) : lastDayOf(month);
    results.push({
      month,
      throughDay,
      controllers: await computeMonth(db, month, start, end, throughDay, options.now),
    });
  }
  return results;
}

async function computeMonth(
  db: Queryable,
  month: string,
  startMs: number,
  endMs: number,
  throughDay: string,
  now: number,
): Promise<number> {
  // Controllers that joined after the month get no row: a zero there would drag their averages down.
  const { rowCount } = await db.query(
    `INSERT INTO usage_statistics (month, controller_id, statistic_type, value_wh, through_day, computed_at)
     SELECT $1, c.controller_id, s.statistic_type, s.value_wh, $4::date, $5
     FROM microgrid_controllers c
     LEFT JOIN (SELECT controller_id, sum(export_wh) AS generation, sum(import_wh) AS consumption
                FROM meter_records WHERE start_time >= $2 AND start_time < $3
                GROUP BY controller_id) t ON t.controller_id = c.controller_id
     CROSS JOIN LATERAL (VALUES ('generation', COALESCE(t.generation, 0)),
                                ('consumption', COALESCE(t.consumption, 0)),
                                ('contribution', COALESCE(t.generation, 0) - COALESCE(t.consumption, 0)))
       AS s(statistic_type, value_wh)
     WHERE c.created_at < $6
     ON CONFLICT (month, controller_id, statistic_type) DO UPDATE
       SET value_wh = EXCLUDED.value_wh, through_day = EXCLUDED.through_day, computed_at = EXCLUDED.computed_at`,
    [
      month,
      new Date(startMs),
      new Date(endMs),
      throughDay,
      new Date(now),
      new Date(monthStartMs(addMonths(month, 1))),
    ],
  );
  return rowCount / 3;
}
