/**
 * Calendar arithmetic in UTC, the time zone the utility's statistics and retention count months
 * and days in. Months are named `YYYY-MM`, as in usage_statistics and put_billing_rates.
 */

export const DAY_MS = 86_400_000;

const MONTH = /^([0-9]{4})-(0[1-9]|1[0-2])$/;

export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function monthStartMs(month: string): number {
  const match = MONTH.exec(month);
  if (match === null) throw new RangeError(`${month} is not a month as YYYY-MM`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, 1);
}

/** The month `n` months after `month` (before it when negative). */
export function addMonths(month: string, n: number): string {
  const start = new Date(monthStartMs(month));
  return monthOf(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + n, 1));
}

/** Midnight (UTC) of the day containing `ms`. */
export function dayStartMs(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** A day as `YYYY-MM-DD` (a DATE column's text). */
export function dayName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The last day of `month`, as `YYYY-MM-DD`. */
export function lastDayOf(month: string): string {
  return dayName(monthStartMs(addMonths(month, 1)) - DAY_MS);
}

/**
 * `ms` moved back `months` calendar months, the day clamped to the shorter month's end
 * (31 August − 6 months = 28 or 29 February), keeping the time of day.
 */
export function monthsBefore(ms: number, months: number): number {
  const d = new Date(ms);
  const target = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1);
  const t = new Date(target);
  const lastDay = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
  return target + (Math.min(d.getUTCDate(), lastDay) - 1) * DAY_MS + (ms - dayStartMs(ms));
}
