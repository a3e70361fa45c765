import type { Queryable } from "../../store/index.js";
import { addMonths, lastDayOf, monthOf } from "./utcMonths.js";

export const STATISTIC_TYPES = ["generation", "consumption", "contribution"] as const;
export type StatisticType = (typeof STATISTIC_TYPES)[number];

/** Seed 000's Export_statistics windows: the past month, quarter, year and five years, in whole months. */
export const STATISTICS_WINDOWS = [
  { window: "month", months: 1 },
  { window: "quarter", months: 3 },
  { window: "year", months: 12 },
  { window: "fiveYears", months: 60 },
] as const;
export type StatisticsWindow = (typeof STATISTICS_WINDOWS)[number]["window"];

export interface StatisticAverage {
  controllerId: string;
  statistic: StatisticType;
  window: StatisticsWindow;
  /** First and last month of the window (`YYYY-MM`): the whole months before the current one. */
  from: string;
  to: string;
  monthsInWindow: number;
  /** Months of the window with statistics for this controller: the average's divisor. */
  monthsCovered: number;
  /** Covered months whose statistics stop before the month's last day (computed while it ran). */
  incompleteMonths: number;
  /** Σ monthly values / monthsCovered in Wh, rounded half away from zero; null when nothing is covered. */
  averageWh: string | null;
}

export interface MonthToDate {
  controllerId: string;
  statistic: StatisticType;
  month: string;
  valueWh: string;
  throughDay: string;
}

export interface StatisticsExport {
  /** The month the windows end before (the current month by the utility's Clock). */
  currentMonth: string;
  averages: StatisticAverage[];
  /** The running month so far, kept apart so a partial month never drags an average down. */
  monthToDate: MonthToDate[];
}

type Row = {
  controller_id: string;
  statistic_type: StatisticType;
  month: string;
  value_wh: string;
  through_day: string;
};

/**
 * Seed 000's Export_statistics: per controller and statistic, the average monthly value over the
 * last 1, 3, 12 and 60 whole months before the current one, from usage_statistics (which, unlike
 * meter records, is kept for good). An average divides by the months that have statistics, and
 * says how many that is, so a controller that joined last year is not averaged over five.
 */
export async function exportStatistics(db: Queryable, options: { now: number }): Promise<StatisticsExport> {
  const currentMonth = monthOf(options.now);
  const longest = Math.max(...STATISTICS_WINDOWS.map((w) => w.months));
  const { rows: controllers } = await db.query<{ controller_id: string }>(
    "SELECT controller_id FROM microgrid_controllers ORDER BY controller_id",
  );
  const { rows } = await db.query<Row>(
    `SELECT controller_id, statistic_type, month, value_wh::text AS value_wh, to_char(through_day, 'YYYY-MM-DD') AS through_day
     FROM usage_statistics WHERE month >= $1 AND month <= $2 ORDER BY controller_id, statistic_type, month`,
    [addMonths(currentMonth, -longest), currentMonth],
  );
  const averages: StatisticAverage[] = [];
  for (const { controller_id: controllerId } of controllers) {
    for (const statistic of STATISTIC_TYPES) {
      const mine = rows.filter((r) => r.controller_id === controllerId && r.statistic_type === statistic);
      for (const { window, months } of STATISTICS_WINDOWS) {
        const [from, to] = [addMonths(currentMonth, -months), addMonths(currentMonth, -1)];
        const covered = mine.filter((r) => r.month >= from && r.month <= to);
        const total = covered.reduce((sum, r) => sum + BigInt(r.value_wh), 0n);
        averages.push({
          controllerId,
          statistic,
          window,
          from,
          to,
          monthsInWindow: months,
          monthsCovered: covered.length,
          incompleteMonths: covered.filter((r) => r.through_day < lastDayOf(r.month)).length,
          averageWh: covered.length === 0 ? null : divideRounded(total, BigInt(covered.length)).toString(),
        });
      }
    }
  }
  const monthToDate = rows
    .filter((r) => r.month === currentMonth)
    .map((r) => ({
      controllerId: r.controller_id,
      statistic: r.statistic_type,
      month: r.month,
      valueWh: r.value_wh,
      throughDay: r.through_day,
    }));
  return { currentMonth, averages, monthToDate };
}

/** a / b rounded to the nearest integer, halves away from zero (b > 0). */
export function divideRounded(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  const twice = (r < 0n ? -r : r) * 2n;
  return twice >= b ? q + (a < 0n ? -1n : 1n) : q;
}
