import { type Clock, canonicalJson } from "@gridmesh/contracts";

import { controllerCommandSchema } from "../../microgrid/controllerApi.js";
import type { Database } from "../../store/index.js";
import { BillingError } from "./billingError.js";
import { monthAt } from "./billingMonth.js";
import { readBillingRates } from "./billingRates.js";
import { readBillingSettings } from "./billingSettings.js";

export interface SendBillingRatesParameters {
  db: Database;
  clock: Clock;
  /** Defaults to the current month on the clock, in the billing time zone. */
  month?: string;
}

export interface SendBillingRatesResult {
  month: string;
  /** Controllers a put_billing_rates was queued for; those that have these rates already are skipped. */
  queued: number;
}

/**
 * Seed 000's Send_billing_rates: queues put_billing_rates with the month's rates for every
 * microgrid controller (the utility's command sender delivers them). Safe to call repeatedly: a
 * controller with the same rates queued or delivered gets nothing new, one with older rates (the
 * month's rates changed since) gets the new ones.
 */
export async function sendBillingRates({
  db,
  clock,
  month,
}: SendBillingRatesParameters): Promise<SendBillingRatesResult> {
  const target = month ?? (await monthAt(db, clock.now(), (await readBillingSettings(db)).timeZone));
  const rates = await readBillingRates(db, target);
  if (rates === undefined) {
    throw new BillingError("no_rates", `no billing rates are set for ${target}, so none can be sent`, {
      month: target,
    });
  }
  const command = controllerCommandSchema.parse({
    command: "put_billing_rates",
    params: {
      month: rates.month,
      peakRate: rates.peakRate,
      offPeakRate: rates.offPeakRate,
      peakStartHour: rates.peakStartHour,
      peakEndHour: rates.peakEndHour,
    },
  });
  const { rowCount } = await db.query(
    `INSERT INTO controller_commands (controller_id, command, params, created_at)
     SELECT c.controller_id, $1, $2::jsonb, $3 FROM microgrid_controllers c
     WHERE NOT EXISTS (SELECT 1 FROM controller_commands q
                       WHERE q.controller_id = c.controller_id AND q.command = $1 AND q.params = $2::jsonb
                         AND q.status IN ('pending', 'delivered'))`,
    [command.command, canonicalJson(command.params), new Date(clock.now())],
  );
  return { month: target, queued: rowCount };
}
