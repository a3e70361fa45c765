import type { Queryable } from "../../store/index.js";
import type { BillingRates } from "./billingRates.js";
import type { MonthPeriod } from "./billingMonth.js";
import type { MissingBillingData } from "./missingBillingData.js";

export interface WriteBillsParameters {
  rates: BillingRates;
  period: MonthPeriod;
  intervalSeconds: number;
  createdAt: Date;
  /** Set when the operator billed a month with data missing. */
  force?: { reason: string; missing: readonly MissingBillingData[] } | undefined;
}

export interface PriceBillsParameters {
  rates: BillingRates;
}

/**
 * Turns `billing_usage` (see computeAccountUsage) into the transaction's temporary tables
 * `billing_bills`, one priced bill per account, and `billing_bill_lines`, its lines in order, which
 * writeBills stores and the month-to-date statement reads without storing. Amounts are token base
 * units:
 * - each energy line is Wh × rate per kWh / 1000, rounded to the nearest unit (halves up); exported
 *   energy is credited at the non-peak rate;
 * - subtotal = base bill + peak and non-peak charges - export credit; the amount due is the subtotal,
 *   or 0 with a line cancelling it when it is negative;
 * - next base bill (seed 000 §2.2.4): negative subtotal, 75% of this base bill; positive, 125%
 *   capped at the account's initial base bill; zero, unchanged. Both round down, in the customer's
 *   favour.
 * P2P lines carry the energy and what was paid on chain for it, and add nothing to the bill.
 */
export async function priceBills(tx: Queryable, p: PriceBillsParameters): Promise<void> {
  await tx.query(
    `CREATE TEMPORARY TABLE billing_bills ON COMMIT DROP AS
     SELECT *,
            greatest(subtotal, 0) AS total_due,
            CASE WHEN subtotal < 0 THEN div(base_bill * 3, 4)
                 WHEN subtotal > 0 THEN least(initial_base_bill, div(base_bill * 5, 4))
                 ELSE base_bill END AS next_base_bill,
            CASE WHEN subtotal < 0 THEN 'reduced'
                 WHEN subtotal > 0 AND div(base_bill * 5, 4) > initial_base_bill THEN 'capped'
                 WHEN subtotal > 0 THEN 'increased'
                 ELSE 'unchanged' END AS base_bill_rule
     FROM (
       SELECT *, base_bill + peak_amount + off_peak_amount - credit_amount AS subtotal
       FROM (
         SELECT u.*,
                div(2 * u.peak_wh * $1 + 1000, 2000) AS peak_amount,
                div(2 * u.off_peak_wh * $2 + 1000, 2000) AS off_peak_amount,
                div(2 * u.credited_export_wh * $2 + 1000, 2000) AS credit_amount
         FROM billing_usage u
       ) charged
     ) totalled`,
    [p.rates.peakRate, p.rates.offPeakRate],
  );
  const d = lineDescriptions(p.rates);
  await tx.query(
    `CREATE TEMPORARY TABLE billing_bill_lines ON COMMIT DROP AS
     SELECT b.account_number,
            (row_number() OVER (PARTITION BY b.account_number ORDER BY l.ord) - 1)::integer AS position,
            l.kind, l.description, l.energy_wh, l.rate AS rate_per_kwh, l.amount, l.onchain AS onchain_amount
     FROM billing_bills b
     CROSS JOIN LATERAL (VALUES
       (0, 'base_bill', $3, NULL::numeric, NULL::numeric, b.base_bill::numeric, NULL::numeric),
       (1, 'import_peak', $4, b.peak_wh, $1::numeric, b.peak_amount, NULL),
       (2, 'import_off_peak', $5, b.off_peak_wh, $2::numeric, b.off_peak_amount, NULL),
       (3, 'export_credit', $6, b.credited_export_wh, $2::numeric, -b.credit_amount, NULL),
       (4, 'p2p_purchase', $7, b.p2p_bought_wh, NULL, 0, b.p2p_bought_paid),
       (5, 'p2p_sale', $8, b.p2p_sold_wh, NULL, 0, b.p2p_sold_paid),
       (6, 'negative_bill_adjustment', $9, NULL, NULL, -b.subtotal, NULL)
     ) AS l (ord, kind, description, energy_wh, rate, amount, onchain)
     WHERE CASE l.kind
             WHEN 'p2p_purchase' THEN b.p2p_bought_wh > 0 OR b.p2p_bought_paid > 0
             WHEN 'p2p_sale' THEN b.p2p_sold_wh > 0 OR b.p2p_sold_paid > 0
             WHEN 'negative_bill_adjustment' THEN b.subtotal < 0
             ELSE true END`,
    [
      p.rates.peakRate,
      p.rates.offPeakRate,
      d.base,
      d.peak,
      d.offPeak,
      d.export,
      d.bought,
      d.sold,
      d.negative,
    ],
  );
}

/**
 * Prices `billing_usage` (priceBills) and stores the month's run, one bill per account with its
 * lines, and each account's next base bill.
 */
export async function writeBills(tx: Queryable, p: WriteBillsParameters): Promise<void> {
  const month = p.rates.month;
  await priceBills(tx, { rates: p.rates });
  const forced = p.force !== undefined;
  await tx.query(
    `INSERT INTO billing_runs (month, period_start, period_end, interval_seconds, forced, force_reason, missing_data,
                               accounts, total_due, created_at)
     SELECT $1, $2, $3, $4, $5, $6, $7, count(*), coalesce(sum(total_due), 0), $8 FROM billing_bills`,
    [
      month,
      p.period.start,
      p.period.end,
      p.intervalSeconds,
      forced,
      p.force?.reason ?? null,
      JSON.stringify(p.force?.missing ?? []),
      p.createdAt,
    ],
  );
  await tx.query(
    `INSERT INTO bills (account_number, month, controller_id, base_bill, next_base_bill, base_bill_rule, import_wh,
                        export_wh, p2p_bought_wh, p2p_sold_wh, billed_import_wh, credited_export_wh, subtotal,
                        total_due, forced, created_at)
     SELECT account_number, $1, controller_id, base_bill, next_base_bill, base_bill_rule, import_wh, export_wh,
            p2p_bought_wh, p2p_sold_wh, billed_import_wh, credited_export_wh, subtotal, total_due, $2, $3
     FROM billing_bills`,
    [month, forced, p.createdAt],
  );
  await tx.query(
    `INSERT INTO bill_lines (month, account_number, position, kind, description, energy_wh, rate_per_kwh, amount,
                             onchain_amount)
     SELECT $1, account_number, position, kind, description, energy_wh, rate_per_kwh, amount, onchain_amount
     FROM billing_bill_lines`,
    [month],
  );
  await tx.query(
    `UPDATE customer_accounts a SET base_bill = b.next_base_bill, updated_at = $1
     FROM billing_bills b WHERE a.account_number = b.account_number`,
    [p.createdAt],
  );
}

function lineDescriptions(rates: BillingRates) {
  const hour = (h: number) => `${String(h).padStart(2, "0")}:00`;
  const peak = `${hour(rates.peakStartHour)}-${hour(rates.peakEndHour)} ${rates.timeZone}`;
  return {
    base: "Base bill",
    peak: `Energy imported in peak hours (${peak}), less P2P purchases`,
    offPeak: `Energy imported outside peak hours (${peak}), less P2P purchases`,
    export: "Energy exported, less P2P sales, credited at the non-peak rate",
    bought: "P2P purchases delivered (paid on chain, not billed again)",
    sold: "P2P sales delivered (paid on chain, not credited again)",
    negative: "Negative bill set to zero (base bill reduced by 25% next month)",
  };
}
