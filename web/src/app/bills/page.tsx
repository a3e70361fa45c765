"use client";

import { useQuery } from "@tanstack/react-query";
import { useConnection } from "wagmi";

import { ConnectFirst, Empty, QueryView } from "../../components/States.js";
import { gatewayError } from "../../hooks/useGateway.js";
import { useCustomerToken } from "../../hooks/useCustomerToken.js";
import { useToken } from "../../hooks/useToken.js";
import type { CustomerBills } from "../../lib/gatewayTypes.js";
import { formatEnergy } from "../../lib/units.js";

/** The customer's bills, month by month, with usage, export credit and P2P lines, and a CSV download. */
export default function BillsPage() {
  const { address } = useConnection();
  const money = useToken();
  const { token, signIn, error } = useCustomerToken();
  const bills = useQuery({
    queryKey: ["customer-bills", address, token],
    enabled: token !== undefined,
    refetchInterval: 10_000,
    queryFn: async () => {
      const res = await fetch("/api/gateway/v1/customer/bills", {
        headers: { authorization: `GridMesh-Wallet ${token!}` },
        cache: "no-store",
      });
      if (!res.ok) throw await gatewayError(res);
      return (await res.json()) as CustomerBills;
    },
  });

  const download = async (month: string) => {
    const res = await fetch(`/api/gateway/v1/customer/months/${month}/bills.csv`, {
      headers: { authorization: `GridMesh-Wallet ${token!}` },
    });
    if (!res.ok) {
      alert((await gatewayError(res)).message);
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `bills-${month}.csv`;
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
                      <button className="secondary" onClick={() => void download(m.month)}>
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
                        <table>
                          <thead>
                            <tr>
                              <th>Line</th>
                              <th className="num">Energy</th>
                              <th className="num">Rate</th>
                              <th className="num">Amount</th>
                              <th className="num">Paid on chain</th>
                            </tr>
                          </thead>
                          <tbody>
                            {bill.lines.map((l) => (
                              <tr key={l.position}>
                                <td style={{ whiteSpace: "normal" }}>{l.description}</td>
                                <td className="num">
                                  {l.energyWh === null ? "" : formatEnergy(BigInt(l.energyWh))}
                                </td>
                                <td className="num">
                                  {l.ratePerKwh === null ? "" : (money?.price(l.ratePerKwh) ?? l.ratePerKwh)}
                                </td>
                                <td className="num">{money?.money(l.amount) ?? l.amount}</td>
                                <td className="num">
                                  {l.onchainAmount === null
                                    ? ""
                                    : (money?.money(l.onchainAmount) ?? l.onchainAmount)}
                                </td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </div>
                    ))}
                  </section>
                ))}
              </div>
            )
          }
        </QueryView>
      )}
    </>
  );
}
