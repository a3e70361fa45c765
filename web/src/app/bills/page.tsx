"use client";

import { useQuery } from "@tanstack/react-query";
import { useConnection } from "wagmi";

import { ConnectFirst, Empty, QueryView } from "../../components/States.js";
import { fetchGateway, gatewayError } from "../../hooks/useGateway.js";
import { useCustomerToken } from "../../hooks/useCustomerToken.js";
import { useToken } from "../../hooks/useToken.js";
import type { CustomerBills, CustomerStatement } from "../../lib/gatewayTypes.js";
import { BillLines } from "./BillLines.js";
import { StatementCard } from "./StatementCard.js";

/**
 * The customer's bills, month by month, with usage, export credit and P2P lines, and a CSV download;
 * above them, the current month's bill so far (a draft).
 */
export default function BillsPage() {
  const { address } = useConnection();
  const money = useToken();
  const { token, signIn, error } = useCustomerToken();
  const auth = { headers: { authorization: `GridMesh-Wallet ${token ?? ""}` } };
  const bills = useQuery({
    queryKey: ["customer-bills", address, token],
    enabled: token !== undefined,
    refetchInterval: 10_000,
    queryFn: () => fetchGateway<CustomerBills>("/v1/customer/bills", auth),
  });
  // A month newly billed means a new month is running: its statement is fetched at once.
  const billedMonths = bills.data?.months.map((m) => m.month) ?? [];
  const statement = useQuery({
    queryKey: ["customer-statement", address, token, billedMonths[0]],
    enabled: token !== undefined,
    // The utility receives usage hourly: a minute is fresh enough, and each request recomputes.
    refetchInterval: 60_000,
    queryFn: () => fetchGateway<CustomerStatement>("/v1/customer/statement", auth),
  });

  const download = async (path: string, filename: string) => {
    const res = await fetch(`/api/gateway/v1/customer/${path}`, auth);
    if (!res.ok) {
      alert((await gatewayError(res)).message);
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.click();
    URL.revokeObjectURL(url);
  };

  if (address === undefined) {
    return (
      <>
        <h1>Bills</h1>
        <ConnectFirst to="see your bills" />
      </>
    );
  }
  return (
    <>
      <h1>Bills</h1>
      {token === undefined ? (
        <section className="card stack">
          <p>
            Your bills are private: sign a read-only request in your wallet to see them (no transaction, no
            fee).
          </p>
          <div>
            <button onClick={() => void signIn()}>Show my bills</button>
          </div>
          {error !== undefined ? (
            <p className="error" role="alert">
              {error}
            </p>
          ) : null}
        </section>
      ) : (
        <div className="stack">
          <QueryView query={statement} what="this month's statement">
            {(s) =>
              // A draft of a month already billed is stale: the bill below replaces it.
              s.statement === null || billedMonths.includes(s.statement.month) ? null : (
                <StatementCard
                  statement={s.statement}
                  money={money}
                  onDownload={(month) => void download("statement.csv", `statement-${month}-draft.csv`)}
                />
              )
            }
          </QueryView>
          <QueryView query={bills} what="your bills">
            {(b) =>
              b.months.length === 0 ? (
                <Empty>
                  {b.accounts.length === 0
                    ? "None of your meters belongs to a utility customer account yet."
                    : `No bill yet for account${b.accounts.length > 1 ? "s" : ""} ${b.accounts.join(", ")}: bills come after each month ends.`}
                </Empty>
              ) : (
                <div className="stack" data-testid="bills">
                  {b.months.map((m) => (
                    <section className="card" key={m.month}>
                      <div className="row" style={{ justifyContent: "space-between" }}>
                        <h2>{m.month}</h2>
                        <button
                          className="secondary"
                          onClick={() => void download(`months/${m.month}/bills.csv`, `bills-${m.month}.csv`)}
                        >
                          Download CSV
                        </button>
                      </div>
                      {m.bills.map((bill) => (
                        <div key={bill.accountNumber} className="table-wrap">
                          <p>
                            Account {bill.accountNumber}:{" "}
                            <strong>{money?.money(bill.totalDue) ?? bill.totalDue}</strong> due
                            {bill.forced ? " (billed with data missing, by the operator's decision)" : ""}
                          </p>
                          <BillLines lines={bill.lines} money={money} />
                        </div>
                      ))}
                    </section>
                  ))}
                </div>
              )
            }
          </QueryView>
        </div>
      )}
    </>
  );
}
