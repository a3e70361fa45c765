import { z } from "zod";

import { type Clock, meterCommandParams } from "@gridmesh/contracts";

import type { Database, Queryable } from "../../store/index.js";
import { BillingError } from "./billingError.js";
import { checkTimeZone } from "./billingMonth.js";
import { lockBilling, readBillingSettings } from "./billingSettings.js";

/**
 * A month's rates as put_billing_rates carries them (token base units per kWh as decimal strings;
 * peak hours [peakStartHour, peakEndHour) of each day), plus the zone those hours are in. Without
 * a zone, the configured billing zone applies.
 */
export const billingRatesInputSchema = meterCommandParams.put_billing_rates.safeExtend({
  timeZone: z.string().min(1).max(64).optional(),
});
export type BillingRatesInput = z.input<typeof billingRatesInputSchema>;

export interface BillingRates {
  month: string;
  peakRate: string;
  offPeakRate: string;
  peakStartHour: number;
  peakEndHour: number;
  timeZone: string;
  setAt: Date;
}

export interface SetBillingRatesParameters {
  db: Database;
  clock: Clock;
  rates: BillingRatesInput;
}

/**
 * Seed 000's Set_billing_rates: adds or replaces a month's rates. A billed month's rates are
 * refused, since its bills were computed from them.
 */
export async function setBillingRates({
  db,
  clock,
  rates,
}: SetBillingRatesParameters): Promise<BillingRates> {
  const input = billingRatesInputSchema.parse(rates);
  return db.transaction(async (tx) => {
    await lockBilling(tx);
    const timeZone = input.timeZone ?? (await readBillingSettings(tx)).timeZone;
    await checkTimeZone(tx, timeZone);
    const billed = await tx.query("SELECT 1 FROM billing_runs WHERE month = $1", [input.month]);
    if (billed.rows.length > 0) {
      throw new BillingError(
        "rates_locked",
        `the rates of ${input.month} cannot change: the month is billed`,
        {
          month: input.month,
        },
      );
    }
    const { rows } = await tx.query<RatesRow>(
      `INSERT INTO billing_rates (month, peak_rate, off_peak_rate, peak_start_hour, peak_end_hour, time_zone, set_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (month) DO UPDATE SET peak_rate = $2, off_peak_rate = $3, peak_start_hour = $4,
         peak_end_hour = $5, time_zone = $6, set_at = $7
       RETURNING ${RATES_COLUMNS}`,
      [
        input.month,
        input.peakRate,
        input.offPeakRate,
        input.peakStartHour,
        input.peakEndHour,
        timeZone,
        new Date(clock.now()),
      ],
    );
    return toRates(rows[0]!);
  });
}

/** The month's rates, or undefined when none were set. */
export async function readBillingRates(q: Queryable, month: string): Promise<BillingRates | undefined> {
  const { rows } = await q.query<RatesRow>(`SELECT ${RATES_COLUMNS} FROM billing_rates WHERE month = $1`, [
    month,
  ]);
  return rows[0] === undefined ? undefined : toRates(rows[0]);
}

/** Every month's rates, oldest first (one row a month: a short list). */
export async function listBillingRates(q: Queryable): Promise<BillingRates[]> {
  const { rows } = await q.query<RatesRow>(`SELECT ${RATES_COLUMNS} FROM billing_rates ORDER BY month`);
  return rows.map(toRates);
}

const RATES_COLUMNS = "month, peak_rate, off_peak_rate, peak_start_hour, peak_end_hour, time_zone, set_at";

type RatesRow = {
  month: string;
  peak_rate: string;
  off_peak_rate: string;
  peak_start_hour: number;
  peak_end_hour: number;
  time_zone: string;
  set_at: Date;
};

function toRates(row: RatesRow): BillingRates {
  return {
    month: row.month,
    peakRate: row.peak_rate,
    offPeakRate: row.off_peak_rate,
    peakStartHour: row.peak_start_hour,
    peakEndHour: row.peak_end_hour,
    timeZone: row.time_zone,
    setAt: row.set_at,
  };
}
