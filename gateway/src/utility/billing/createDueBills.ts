import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import type { Database, Queryable } from "../../store/index.js";
import { BillingError } from "./billingError.js";
import { monthAt, nextMonth } from "./billingMonth.js";
import { readBillingSettings } from "./billingSettings.js";
import { createBills, type CreateBillsResult } from "./createBills.js";

export interface CreateDueBillsParameters {
  db: Database;
  clock: Clock;
  logger: Logger;
}

/**
 * What the monthly loop calls (daily is fine: it does nothing until a month is due). Bills every
 * ended month after the last one billed, in order, and stops at the first it cannot bill yet
 * (data missing, or no rates). The first month ever billed is the first with rates.
 */
export async function createDueBills({
  db,
  clock,
  logger,
}: CreateDueBillsParameters): Promise<CreateBillsResult[]> {
  const { timeZone } = await readBillingSettings(db);
  const current = await monthAt(db, clock.now(), timeZone);
  let due = await firstUnbilledMonth(db);
  const results: CreateBillsResult[] = [];
  while (due !== null && due < current) {
    let result: CreateBillsResult;
    try {
      result = await createBills({ db, clock, logger, month: due });
    } catch (error) {
      // A month in a zone behind the billing zone's ends a few hours later: due on a later round.
      if (error instanceof BillingError && error.refusal === "month_not_ended") break;
      throw error;
    }
    results.push(result);
    if (result.status === "incomplete") break;
    due = nextMonth(due);
  }
  return results;
}

/** The next month to bill: the one after the last billed, or the first with rates; null with neither. */
export async function firstUnbilledMonth(q: Queryable): Promise<string | null> {
  const { rows } = await q.query<{ last_billed: string | null; first_rated: string | null }>(
    `SELECT (SELECT max(month) FROM billing_runs) AS last_billed, (SELECT min(month) FROM billing_rates) AS first_rated`,
  );
  const { last_billed: lastBilled, first_rated: firstRated } = rows[0]!;
  return lastBilled === null ? firstRated : nextMonth(lastBilled);
}
