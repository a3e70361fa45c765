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
  const rows = [HEADER];
  for (const bill of billed.bills) {
    for (const line of bill.lines) {
      rows.push([
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
        bill.totalDue,
        bill.nextBaseBill,
        String(bill.forced),
      ]);
    }
  }
  return rows.map((row) => row.map(field).join(",") + "\r\n").join("");
}

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
