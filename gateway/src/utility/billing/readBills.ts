import type { Queryable } from "../../store/index.js";
import { BillingError } from "./billingError.js";
import { readBillingRates } from "./billingRates.js";
import { readBillingRun } from "./createBills.js";
import type { MissingBillingData } from "./missingBillingData.js";

export const billLineKinds = [
  "base_bill",
  "import_peak",
  "import_off_peak",
  "export_credit",
  "p2p_purchase",
  "p2p_sale",
  "negative_bill_adjustment",
] as const;
export type BillLineKind = (typeof billLineKinds)[number];

export const baseBillRules = ["reduced", "increased", "capped", "unchanged"] as const;
export type BaseBillRule = (typeof baseBillRules)[number];

/** Amounts in token base units and energy in Wh, as decimal strings (JSON numbers stop at 2^53). */
export interface BillLine {
  position: number;
  kind: BillLineKind;
  description: string;
  energyWh: string | null;
  ratePerKwh: string | null;
  /** What the line adds to the bill; negative for credits, 0 for the P2P lines. */
  amount: string;
  /** P2P lines: what the fills paid (purchases) or earned (sales) on chain. */
  onchainAmount: string | null;
}

/** Watt-hours a bill (or a month-to-date statement) counts, as decimal strings. */
export interface BillUsage {
  importWh: string;
  exportWh: string;
  p2pBoughtWh: string;
  p2pSoldWh: string;
  billedImportWh: string;
  creditedExportWh: string;
}

export interface Bill extends BillUsage {
  month: string;
  accountNumber: string;
  controllerId: string;
  baseBill: string;
  nextBaseBill: string;
  baseBillRule: BaseBillRule;
  subtotal: string;
  totalDue: string;
  forced: boolean;
  createdAt: string;
  lines: BillLine[];
}

export interface BilledMonth {
  month: string;
  timeZone: string;
  periodStart: string;
  periodEnd: string;
  rates: { peakRate: string; offPeakRate: string; peakStartHour: number; peakEndHour: number };
  accounts: number;
  totalDue: string;
  forced: boolean;
  forceReason: string | null;
  missing: MissingBillingData[];
  createdAt: string;
  bills: Bill[];
}

export interface ReadBillsParameters {
  month: string;
  /** Only this account's bill (refused when it has none); every account's when omitted. */
  accountNumber?: string | undefined;
  /** Only these accounts' bills, those of them billed this month (a customer's several accounts). */
  accountNumbers?: readonly string[] | undefined;
}

/** A billed month with its bills and their lines, accounts in order; the form both exports use. */
export async function readBills(
  q: Queryable,
  { month, accountNumber, accountNumbers }: ReadBillsParameters,
): Promise<BilledMonth> {
  const run = await readBillingRun(q, month);
  if (run === undefined) throw new BillingError("not_billed", `${month} has not been billed`, { month });
  const rates = (await readBillingRates(q, month))!;
  const only = accountNumber === undefined ? accountNumbers : [accountNumber];
  const filter = only === undefined ? "" : "AND account_number = ANY($2)";
  const params = only === undefined ? [month] : [month, only];
  const { rows: bills } = await q.query<BillRow>(
    `SELECT account_number, controller_id, base_bill, next_base_bill, base_bill_rule, import_wh, export_wh,
            p2p_bought_wh, p2p_sold_wh, billed_import_wh, credited_export_wh, subtotal, total_due, forced, created_at
     FROM bills WHERE month = $1 ${filter} ORDER BY account_number`,
    params,
  );
  if (accountNumber !== undefined && bills.length === 0) {
    throw new BillingError("not_billed", `account ${accountNumber} has no bill for ${month}`, {
      month,
      accountNumber,
    });
  }
  const { rows: lines } = await q.query<LineRow>(
    `SELECT account_number, position, kind, description, energy_wh, rate_per_kwh, amount, onchain_amount
     FROM bill_lines WHERE month = $1 ${filter} ORDER BY account_number, position`,
    params,
  );
  const linesOf = billLinesByAccount(lines);
  return {
    month,
    timeZone: rates.timeZone,
    periodStart: run.periodStart.toISOString(),
    periodEnd: run.periodEnd.toISOString(),
    rates: {
      peakRate: rates.peakRate,
      offPeakRate: rates.offPeakRate,
      peakStartHour: rates.peakStartHour,
      peakEndHour: rates.peakEndHour,
    },
    accounts: run.accounts,
    totalDue: run.totalDue,
    forced: run.forced,
    forceReason: run.forceReason,
    missing: run.missing,
    createdAt: run.createdAt.toISOString(),
    bills: bills.map((b) => ({
      month,
      accountNumber: b.account_number,
      controllerId: b.controller_id,
      baseBill: b.base_bill,
      nextBaseBill: b.next_base_bill,
      baseBillRule: b.base_bill_rule,
      ...billUsageOf(b),
      subtotal: b.subtotal,
      totalDue: b.total_due,
      forced: b.forced,
      createdAt: b.created_at.toISOString(),
      lines: linesOf.get(b.account_number) ?? [],
    })),
  };
}

/** The usage columns of a bill row, stored or priced. */
export type UsageColumns = {
  import_wh: string;
  export_wh: string;
  p2p_bought_wh: string;
  p2p_sold_wh: string;
  billed_import_wh: string;
  credited_export_wh: string;
};

type BillRow = UsageColumns & {
  account_number: string;
  controller_id: string;
  base_bill: string;
  next_base_bill: string;
  base_bill_rule: BaseBillRule;
  subtotal: string;
  total_due: string;
  forced: boolean;
  created_at: Date;
};

export type LineRow = {
  account_number: string;
  position: number;
  kind: BillLineKind;
  description: string;
  energy_wh: string | null;
  rate_per_kwh: string | null;
  amount: string;
  onchain_amount: string | null;
};

/** Bill line rows (stored, or priced for a draft) as each account's lines, in the rows' order. */
export function billLinesByAccount(rows: readonly LineRow[]): Map<string, BillLine[]> {
  const linesOf = new Map<string, BillLine[]>();
  for (const l of rows) {
    const list = linesOf.get(l.account_number) ?? [];
    list.push({
      position: l.position,
      kind: l.kind,
      description: l.description,
      energyWh: l.energy_wh,
      ratePerKwh: l.rate_per_kwh,
      amount: l.amount,
      onchainAmount: l.onchain_amount,
    });
    linesOf.set(l.account_number, list);
  }
  return linesOf;
}

/** A bill row's usage columns (stored, or priced for a draft) in the API's shape. */
export function billUsageOf(row: UsageColumns): BillUsage {
  return {
    importWh: row.import_wh,
    exportWh: row.export_wh,
    p2pBoughtWh: row.p2p_bought_wh,
    p2pSoldWh: row.p2p_sold_wh,
    billedImportWh: row.billed_import_wh,
    creditedExportWh: row.credited_export_wh,
  };
}
