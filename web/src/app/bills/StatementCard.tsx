"use client";

import type { TokenInfo } from "../../hooks/useToken.js";
import { formatTime } from "../../lib/format.js";
import type { MonthToDateStatement } from "../../lib/gatewayTypes.js";
import { statementGaps } from "../../lib/statement.js";
import { BillLines } from "./BillLines.js";

const at = (iso: string) => formatTime(Date.parse(iso) / 1000);

/**
 * The current month's bill so far: a draft the gateway computes on request with the billing code,
 * from the month's start to the last hour of data it holds, with the same lines as a bill.
 */
export function StatementCard({
  statement,
  money,
  onDownload,
}: {
  statement: MonthToDateStatement;
  money: TokenInfo | undefined;
  onDownload: (month: string) => void;
}) {
  const gaps = statementGaps(statement.missing);
  return (
    <section className="card" data-testid="statement">
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h2>
          This month so far <span className="badge wait">draft</span>{" "}
          <span className="note">as of {at(statement.asOf)}</span>
        </h2>
        <button className="secondary" onClick={() => onDownload(statement.month)}>
          Download CSV
        </button>
      </div>
      <p className="note">
        {statement.month}, from {at(statement.periodStart)} to {at(statement.asOf)}; billed after the month
        ends on {at(statement.monthEnd)}. {statement.note}
        {statement.unbilledEarlierMonth !== null
          ? ` The base bill shown may change once ${statement.unbilledEarlierMonth} is billed.`
          : ""}
      </p>
      {statement.asOf === statement.periodStart ? (
        <p className="note">No usage of this month has reached the utility yet.</p>
      ) : null}
      {gaps.length > 0 ? <p className="note">Still to come: {gaps.join("; ")}.</p> : null}
      {statement.bills.map((bill) => (
        <div key={bill.accountNumber} className="table-wrap">
          <p>
            Account {bill.accountNumber}: <strong>{money?.money(bill.subtotal) ?? bill.subtotal}</strong> so
            far (unadjusted)
          </p>
          <BillLines lines={bill.lines} money={money} />
        </div>
      ))}
    </section>
  );
}
