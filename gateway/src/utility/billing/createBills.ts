import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import type { Database, Queryable } from "../../store/index.js";
import { computeAccountUsage } from "./accountUsage.js";
import { BillingError } from "./billingError.js";
import { monthPeriod, monthSchema, nextMonth } from "./billingMonth.js";
import { readBillingRates } from "./billingRates.js";
import { lockBilling, readBillingSettings } from "./billingSettings.js";
import {
  describeMissingData,
  findMissingBillingData,
  type MissingBillingData,
} from "./missingBillingData.js";
import { writeBills } from "./writeBills.js";

export interface CreateBillsParameters {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** The month whose usage is billed (`YYYY-MM`, in the rates' time zone). */
  month: string;
  /** Bill even though data is missing (the operator's decision, recorded on the run and the bills). */
  force?: { reason: string } | undefined;
}

export interface BillingRun {
  month: string;
  periodStart: Date;
  periodEnd: Date;
  accounts: number;
  /** Sum of the bills' amounts due, token base units. */
  totalDue: string;
  forced: boolean;
  forceReason: string | null;
  /** What was missing when the run was forced; empty otherwise. */
  missing: MissingBillingData[];
  createdAt: Date;
}

export type CreateBillsResult =
  | { status: "created"; run: BillingRun }
  /** The month was billed before: nothing changed. */
  | { status: "already_billed"; run: BillingRun }
  /** Data is missing and the run was not forced: nothing was written. */
  | { status: "incomplete"; month: string; missing: MissingBillingData[] };

/**
 * Seed 000's Create_bills for one month, in one transaction: every customer account's bill (see
 * computeAccountUsage and writeBills for the arithmetic), and its base bill for the next month.
 * Idempotent: a billed month is answered with its run and left alone. Months are billed in order,
 * once they have ended on the utility's clock, and only with complete data unless forced.
 *
 * Throws BillingError when the month cannot be billed at all (no rates, out of order, not ended).
 */
export async function createBills(p: CreateBillsParameters): Promise<CreateBillsResult> {
  const month = monthSchema.parse(p.month);
  const result = await p.db.transaction(async (tx): Promise<CreateBillsResult> => {
    await lockBilling(tx);
    const billed = await readBillingRun(tx, month);
    if (billed !== undefined) return { status: "already_billed", run: billed };

    await checkOrder(tx, month);
    const { intervalSeconds } = await readBillingSettings(tx);
    const rates = await readBillingRates(tx, month);
    if (rates === undefined) {
      throw new BillingError("no_rates", `no billing rates are set for ${month}`, { month });
    }
    const period = await monthPeriod(tx, month, rates.timeZone);
    const now = p.clock.now();
    if (now < period.end.getTime()) {
      throw new BillingError(
        "month_not_ended",
        `${month} cannot be billed before it ends at ${period.end.toISOString()} (now ${new Date(now).toISOString()})`,
        { month, endsAt: period.end.toISOString() },
      );
    }

    const missing = await findMissingBillingData(tx, { period, intervalSeconds });
    if (missing.length > 0 && p.force === undefined) return { status: "incomplete", month, missing };

    // PGlite has no autovacuum: without fresh statistics the planner misjudges the month's records.
    await tx.exec("ANALYZE meter_records");
    await computeAccountUsage(tx, { period, rates, intervalSeconds });
    await writeBills(tx, {
      rates,
      period,
      intervalSeconds,
      createdAt: new Date(now),
      // Forcing a month with nothing missing is an ordinary run.
      force: p.force === undefined || missing.length === 0 ? undefined : { reason: p.force.reason, missing },
    });
    return { status: "created", run: (await readBillingRun(tx, month))! };
  });

  if (result.status === "created") {
    const { run } = result;
    p.logger.info(
      { month, accounts: run.accounts, totalDue: run.totalDue, forced: run.forced },
      run.forced ? `billed ${month} by force: ${describeMissingData(run.missing)}` : `billed ${month}`,
    );
  } else if (result.status === "incomplete") {
    p.logger.warn(
      { month, missing: result.missing },
      `not billing ${month}: ${describeMissingData(result.missing)}`,
    );
  }
  return result;
}

/** Each month's bills start from the base bills the previous month's left: no gaps, no going back. */
async function checkOrder(tx: Queryable, month: string): Promise<void> {
  const { rows } = await tx.query<{ latest: string | null }>("SELECT max(month) AS latest FROM billing_runs");
  const latest = rows[0]!.latest;
  if (latest === null || nextMonth(latest) === month) return;
  throw new BillingError(
    "out_of_order",
    month < latest
      ? `${month} precedes ${latest}, the last month billed, and cannot be billed after it`
      : `${month} cannot be billed before ${nextMonth(latest)}: months are billed in order`,
    { month, lastBilled: latest },
  );
}

export async function readBillingRun(q: Queryable, month: string): Promise<BillingRun | undefined> {
  const { rows } = await q.query<{
    month: string;
    period_start: Date;
    period_end: Date;
    accounts: number;
    total_due: string;
    forced: boolean;
    force_reason: string | null;
    missing_data: MissingBillingData[];
    created_at: Date;
  }>(
    `SELECT month, period_start, period_end, accounts, total_due, forced, force_reason, missing_data, created_at
     FROM billing_runs WHERE month = $1`,
    [month],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    month: row.month,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    accounts: row.accounts,
    totalDue: row.total_due,
    forced: row.forced,
    forceReason: row.force_reason,
    missing: row.missing_data,
    createdAt: row.created_at,
  };
}
