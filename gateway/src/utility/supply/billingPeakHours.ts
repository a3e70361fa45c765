import { localMonthAndHour, type PeakHours, type PeakHoursSource } from "./peakHours.js";

/**
 * Peak hours from billing (0006_billing): the month's billing_rates row, in the zone those rates were
 * set in, the month itself taken in billing's time zone (billing_settings, else the configured one).
 * A month without rates yet falls back to the configured hours. The one place that reads billing's
 * tables, so that a change there is made here alone.
 */
export function billingRatesPeakHours(fallback: Omit<PeakHours, "source">): PeakHoursSource {
  return async (db, atMs) => {
    const { rows: settings } = await db.query<{ time_zone: string }>(
      "SELECT time_zone FROM billing_settings",
    );
    const zone = settings[0]?.time_zone ?? fallback.timeZone;
    const { month } = localMonthAndHour(atMs, zone);
    const { rows } = await db.query<{ peak_start_hour: number; peak_end_hour: number; time_zone: string }>(
      "SELECT peak_start_hour, peak_end_hour, time_zone FROM billing_rates WHERE month = $1",
      [month],
    );
    const rates = rows[0];
    if (rates === undefined) return { ...fallback, source: "configuration" };
    return {
      startHour: rates.peak_start_hour,
      endHour: rates.peak_end_hour,
      timeZone: rates.time_zone,
      source: `billing_rates ${month}`,
    };
  };
}
