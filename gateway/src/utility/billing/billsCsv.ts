import type { MonthToDateStatement } from "./monthToDate.js";
import type { BilledMonth } from "./readBills.js";

const HEADER = [
  "month",
  "account_number",
  "controller_id",
  "line",
  "kind",
  "description",
  "energy_wh",
  "rate_per_kwh",
  "amount",
  "onchain_amount",
  "bill_total_due",
  "next_base_bill",
  "forced",
];

/**
 * The month's bills as CSV (RFC 4180, CRLF line ends): a header row, then one row per bill line
 * with its bill's total and next base bill repeated, so that each row stands alone in a
 * spreadsheet. Amounts are token base units, energy watt-hours; the amounts of a bill's rows add
 * up to its total.
 */
export function billsCsv(billed: BilledMonth): string {
  return csv(
    HEADER,
    billed.bills.flatMap((bill) =>
      bill.lines.map((line) => [
        ...lineFields(bill, line),
        bill.totalDue,
        bill.nextBaseBill,
        String(bill.forced),
      ]),
    ),
  );
}

/**
 * A month-to-date statement in the bills' CSV columns, so a spreadsheet reads both alike, with
 * two more columns marking every row a draft and its end. bill_total_due holds the unadjusted
 * subtotal so far (it may be negative) and next_base_bill is empty: a draft applies no base-bill
 * rule (see monthToDate.ts).
 */
export function statementCsv(statement: MonthToDateStatement): string {
  return csv(
    [...HEADER, "draft", "as_of"],
    statement.bills.flatMap((bill) =>
      bill.lines.map((line) => [
        ...lineFields(bill, line),
        bill.subtotal,
        "",
        "false",
        "true",
        statement.asOf,
      ]),
    ),
  );
}

type CsvBill = Pick<BilledMonth["bills"][number], "month" | "accountNumber" | "controllerId">;
type CsvLine = BilledMonth["bills"][number]["lines"][number];

function lineFields(bill: CsvBill, line: CsvLine): string[] {
  return [
    bill.month,
    bill.accountNumber,
    bill.controllerId,
    String(line.position),
    line.kind,
    line.description,
    line.energyWh ?? "",
    line.ratePerKwh ?? "",
    line.amount,
    line.onchainAmount ?? "",
  ];
}

function csv(header: readonly string[], rows: readonly string[][]): string {
  return [header, ...rows].map((row) => row.map(field).join(",") + "\r\n").join("");
}

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
