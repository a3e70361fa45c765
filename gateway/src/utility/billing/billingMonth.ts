import { z } from "zod";

import type { Queryable } from "../../store/index.js";
import { BillingError } from "./billingError.js";

/** A billing month as seed 000's Month_ID and put_billing_rates name it: `YYYY-MM`. */
export const monthSchema = z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, "must be a month as YYYY-MM");

export function nextMonth(month: string): string {
  const [year, m] = month.split("-").map(Number) as [number, number];
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, "0")}`;
}

/** A month's bounds: its first instant and the first instant of the next, in its time zone. */
export interface MonthPeriod {
  start: Date;
  end: Date;
}

/**
 * Computed by the database, whose time zone rules are the ones billing runs on (a month of a zone
 * with daylight saving time is not a whole number of days).
 */
export async function monthPeriod(q: Queryable, month: string, timeZone: string): Promise<MonthPeriod> {
  const { rows } = await q.query<{ start: Date; end: Date }>(
    `SELECT ($1 || '-01')::timestamp AT TIME ZONE $3 AS start,
            ($2 || '-01')::timestamp AT TIME ZONE $3 AS "end"`,
    [month, nextMonth(month), timeZone],
  );
  return rows[0]!;
}

/** The month (in `timeZone`) that contains the instant `atMs`. */
export async function monthAt(q: Queryable, atMs: number, timeZone: string): Promise<string> {
  const { rows } = await q.query<{ month: string }>(
    "SELECT to_char(timezone($2, to_timestamp($1::double precision / 1000)), 'YYYY-MM') AS month",
    [atMs, timeZone],
  );
  return rows[0]!.month;
}

/** Refuses a time zone the database does not know, by name, before it is stored. */
export async function checkTimeZone(q: Queryable, timeZone: string): Promise<void> {
  const { rows } = await q.query<{ known: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS known",
    [timeZone],
  );
  if (!rows[0]!.known) {
    throw new BillingError(
      "invalid_time_zone",
      `unknown time zone "${timeZone}" (use an IANA name such as UTC)`,
      {
        timeZone,
      },
    );
  }
}
