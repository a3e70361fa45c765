"use client";

import { useConnection } from "wagmi";

import { ConnectFirst, QueryView } from "../../components/States.js";
import { useGateway } from "../../hooks/useGateway.js";
import { useToken } from "../../hooks/useToken.js";
import type { Order, Page } from "../../lib/gatewayTypes.js";
import { formatEnergy } from "../../lib/units.js";

const statusWords: Record<Order["status"], string> = {
  open: "open for the auction",
  cancelled: "cancelled",
  matched: "traded, awaiting readings",
  settled: "settled against readings",
  released: "settled, deposit returned",
};

/**
 * Every order of the account by interval: what it sold or bought at the clearing, what settled
 * against the meters' readings and, for sales, what the meter actually delivered.
 */
export default function TradesPage() {
  const { address } = useConnection();
  const token = useToken();
  const orders = useGateway<Page<Order>>(
    address === undefined ? null : `/v1/orders?owner=${address.toLowerCase()}&limit=1000`,
    3_000,
  );
  return (
    <>
      <h1>Trades and settlement</h1>
      {address === undefined ? (
        <ConnectFirst to="see your trades" />
      ) : (
        <section className="card">
          <QueryView
            query={orders}
            what="your orders"
            isEmpty={(p) => p.items.length === 0}
            empty="You have not traded yet."
          >
            {(p) => (
              <div className="table-wrap">
                <table data-testid="trades">
                  <thead>
                    <tr>
                      <th>Interval</th>
                      <th>Order</th>
                      <th>Side</th>
                      <th className="num">Asked</th>
                      <th className="num">Traded</th>
                      <th className="num">Settled</th>
                      <th className="num">Delivered</th>
                      <th className="num">Deposit back</th>
                      <th>Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...p.items].reverse().map((o) => {
                      const short = o.side === "offer" && BigInt(o.deliveredWh) < BigInt(o.settledWh);
                      return (
                        <tr key={o.orderId}>
                          <td>{o.interval}</td>
                          <td>#{o.orderId}</td>
                          <td>{o.side === "offer" ? "sell" : "buy"}</td>
                          <td className="num">{formatEnergy(BigInt(o.maxWh))}</td>
                          <td className="num">{formatEnergy(BigInt(o.filledWh))}</td>
                          <td className="num">{formatEnergy(BigInt(o.settledWh))}</td>
                          <td className={`num ${short ? "error" : ""}`}>
                            {o.side === "offer" ? formatEnergy(BigInt(o.deliveredWh)) : "—"}
                            {short ? " (short)" : ""}
                          </td>
                          <td className="num">
                            {o.releasedAmount === null
                              ? "—"
                              : (token?.money(o.releasedAmount) ?? o.releasedAmount)}
                          </td>
                          <td>{statusWords[o.status]}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </QueryView>
        </section>
      )}
    </>
  );
}
