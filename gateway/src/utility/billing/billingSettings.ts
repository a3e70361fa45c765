import type { Database, Queryable } from "../../store/index.js";
import { BillingError } from "./billingError.js";
import { checkTimeZone } from "./billingMonth.js";

export interface BillingSettings {
  /** IANA zone whose days hold the peak hours and whose calendar months are billed. */
  timeZone: string;
  /** The market's interval length: P2P fills are known by interval index only. */
  intervalSeconds: number;
}

/**
 * Records what billing needs from the service's configuration (the service calls this at start,
 * with the interval read from the market contract), so that the monthly loop and the operator's
 * API bill alike without a service object.
 */
export async function configureBilling(db: Database, settings: BillingSettings): Promise<void> {
  if (!Number.isSafeInteger(settings.intervalSeconds) || settings.intervalSeconds <= 0) {
    throw new RangeError(`intervalSeconds must be a positive whole number, got ${settings.intervalSeconds}`);
  }
  await checkTimeZone(db, settings.timeZone);
  await db.query(
    `INSERT INTO billing_settings (id, time_zone, interval_seconds) VALUES (true, $1, $2)
     ON CONFLICT (id) DO UPDATE SET time_zone = $1, interval_seconds = $2, updated_at = now()`,
    [settings.timeZone, settings.intervalSeconds],
  );
}

export async function readBillingSettings(q: Queryable): Promise<BillingSettings> {
  const { rows } = await q.query<{ time_zone: string; interval_seconds: number }>(
    "SELECT time_zone, interval_seconds FROM billing_settings",
  );
  const row = rows[0];
  if (row === undefined) {
    throw new BillingError(
      "not_configured",
      "billing is not configured: the service records its time zone and interval length at start (configureBilling)",
    );
  }
  return { timeZone: row.time_zone, intervalSeconds: row.interval_seconds };
}

/** Serialises whatever changes billing state (rates, runs), across gateways sharing a database. */
export async function lockBilling(tx: Queryable): Promise<void> {
  // "billing" in ASCII; the migrations take another key.
  await tx.query("SELECT pg_advisory_xact_lock(27700462113877607)");
}
