import type { Clock } from "@gridmesh/contracts";

import type { Database, Queryable } from "../../store/index.js";
import { computeAccountUsage } from "./accountUsage.js";
import { BillingError } from "./billingError.js";
import { monthAt, monthPeriod, type MonthPeriod } from "./billingMonth.js";
import { readBillingRates } from "./billingRates.js";
import { readBillingSettings } from "./billingSettings.js";
import { firstUnbilledMonth } from "./createDueBills.js";
import { findMissingBillingData, type MissingBillingData } from "./missingBillingData.js";
import {
  type BillLine,
  billLinesByAccount,
  type BillUsage,
  billUsageOf,
  type LineRow,
  type UsageColumns,
} from "./readBills.js";
import { priceBills } from "./writeBills.js";

/**
 * The ±25% base-bill rule sets next month's base bill from the sign of the whole month's subtotal,
 * and zeroes a negative amount due. Part of a month cannot decide either: the rest of the month's
 * import and export can still change the sign. So a statement applies neither: it shows the
 * unadjusted subtotal (negative when credits exceed charges so far), no negative-bill line and no
 * next base bill, and says so.
 */
export const BASE_BILL_RULE_NOTE =
  "Draft: the ±25% base-bill rule (and zeroing of a negative bill) is applied only to the bill of the " +
  "whole month, from its final subtotal; the figures here are unadjusted and will change until the month is billed.";

/** One account's bill so far: a Bill's usage figures and lines, without what only a whole month decides. */
export interface StatementBill extends BillUsage {
  month: string;
  accountNumber: string;
  controllerId: string;
  baseBill: string;
  /** Base bill + charges - credits so far; may be negative (not adjusted, see BASE_BILL_RULE_NOTE). */
  subtotal: string;
  lines: BillLine[];
}

export interface MonthToDateStatement {
  draft: true;
  month: string;
  timeZone: string;
  /** The month's start: the period covered is [periodStart, asOf). */
  periodStart: string;
  /** End of the last hour of data the utility holds from every controller of the accounts. */
  asOf: string;
  /** When the month ends and can be billed. */
  monthEnd: string;
  rates: { peakRate: string; offPeakRate: string; peakStartHour: number; peakEndHour: number };
  baseBillRuleApplied: false;
  note: string;
  /** An earlier month not billed yet: its bill's base-bill rule will change the base bill shown. */
  unbilledEarlierMonth: string | null;
  /** Data of the period still missing (it arrives or is settled later, and changes the figures). */
  missing: MissingBillingData[];
  accounts: number;
  bills: StatementBill[];
}

export interface MonthToDateParameters {
  db: Database;
  clock: Clock;
  /** The accounts to draft; every account when omitted. */
  accountNumbers?: readonly string[] | undefined;
}

/** Thrown inside the transaction to roll it back and carry the statement out. */
class RolledBack extends Error {
  constructor(readonly statement: MonthToDateStatement) {
    super("month-to-date statement computed; its transaction rolls back");
  }
}

/**
 * The current month's bill so far, computed on request by the code that bills a closed month
 * (computeAccountUsage, priceBills) over [month start, asOf), asOf the end of the last hour the
 * utility holds for the accounts' controllers. Stored nowhere: the work runs in a transaction that
 * is always rolled back, so even the temporary tables leave no trace.
 *
 * Throws BillingError not_configured, or no_rates when the month has no rates yet.
 */
export async function computeMonthToDate(p: MonthToDateParameters): Promise<MonthToDateStatement> {
  try {
    await p.db.transaction(async (tx) => {
      throw new RolledBack(await draft(tx, p));
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.statement;
    throw error;
  }
  throw new Error("unreachable: the statement's transaction always rolls back");
}

async function draft(tx: Queryable, p: MonthToDateParameters): Promise<MonthToDateStatement> {
  const { timeZone, intervalSeconds } = await readBillingSettings(tx);
  const now = p.clock.now();
  const month = await monthAt(tx, now, timeZone);
  const rates = await readBillingRates(tx, month);
  if (rates === undefined) {
    throw new BillingError("no_rates", `no billing rates are set for ${month} yet`, { month });
  }
  const monthBounds = await monthPeriod(tx, month, rates.timeZone);
  const asOf = await dataEnd(tx, monthBounds, new Date(now), p.accountNumbers);
  const period = { start: monthBounds.start, end: asOf };

  await computeAccountUsage(tx, { period, rates, intervalSeconds, accountNumbers: p.accountNumbers });
  await priceBills(tx, { rates });
  const { rows: bills } = await tx.query<BillRow>(
    `SELECT account_number, controller_id, base_bill::text, import_wh::text, export_wh::text,
            p2p_bought_wh::text, p2p_sold_wh::text, billed_import_wh::text, credited_export_wh::text, subtotal::text
     FROM billing_bills ORDER BY account_number`,
  );
  // The negative-bill line belongs to the base-bill rule, which a draft does not apply.
  const { rows: lines } = await tx.query<LineRow>(
    `SELECT account_number, position, kind, description, energy_wh::text, rate_per_kwh::text, amount::text,
            onchain_amount::text
     FROM billing_bill_lines WHERE kind <> 'negative_bill_adjustment' ORDER BY account_number, position`,
  );
  const linesOf = billLinesByAccount(lines);

  const unbilled = await firstUnbilledMonth(tx);
  // The draft's period is what the bill will hold so far: a gap in it is a change still to come.
  const missing =
    asOf > period.start
      ? await findMissingBillingData(tx, { period, intervalSeconds, accountNumbers: p.accountNumbers })
      : [];
  return {
    draft: true,
    month,
    timeZone: rates.timeZone,
    periodStart: period.start.toISOString(),
    asOf: asOf.toISOString(),
    monthEnd: monthBounds.end.toISOString(),
    rates: {
      peakRate: rates.peakRate,
      offPeakRate: rates.offPeakRate,
      peakStartHour: rates.peakStartHour,
      peakEndHour: rates.peakEndHour,
    },
    baseBillRuleApplied: false,
    note: BASE_BILL_RULE_NOTE,
    unbilledEarlierMonth: unbilled !== null && unbilled < month ? unbilled : null,
    missing,
    accounts: bills.length,
    bills: bills.map((b) => ({
      month,
      accountNumber: b.account_number,
      controllerId: b.controller_id,
      baseBill: b.base_bill,
      ...billUsageOf(b),
      subtotal: b.subtotal,
      lines: linesOf.get(b.account_number) ?? [],
    })),
  };
}

/**
 * The end of the data the statement can cover: the end of the latest hour of the month received
 * from each controller of the accounts, the earliest of those (so every account covers the same
 * period), no later than now or the month's end and no earlier than its start. Hours are stored
 * only once complete, so this is the last complete hour; meter records arrive only with them.
 */
async function dataEnd(
  tx: Queryable,
  month: MonthPeriod,
  now: Date,
  accountNumbers: readonly string[] | undefined,
): Promise<Date> {
  const limit = now < month.end ? now : month.end;
  const { rows } = await tx.query<{ as_of: Date | null }>(
    `SELECT min(coalesce(held.last_end, $1)) AS as_of
     FROM (
       SELECT c.controller_id, max(u.hour) + interval '1 hour' AS last_end
       FROM (SELECT DISTINCT controller_id FROM customer_accounts
             WHERE $3::text[] IS NULL OR account_number = ANY($3::text[])) c
       LEFT JOIN usage_hours u
         ON u.controller_id = c.controller_id AND u.hour + interval '1 hour' > $1
            AND u.hour + interval '1 hour' <= $2
       GROUP BY c.controller_id
     ) held`,
    [month.start, limit, accountNumbers === undefined ? null : [...accountNumbers]],
  );
  const end = rows[0]!.as_of ?? month.start;
  return end < month.start ? month.start : end;
}

type BillRow = UsageColumns & {
  account_number: string;
  controller_id: string;
  base_bill: string;
  subtotal: string;
};
