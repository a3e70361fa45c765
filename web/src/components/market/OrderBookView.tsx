"use client";

import type { Book } from "../../lib/gatewayTypes.js";
import { shortAddress } from "../../lib/format.js";
import { formatEnergy } from "../../lib/units.js";
import { useGateway } from "../../hooks/useGateway.js";
import { useToken } from "../../hooks/useToken.js";
import { DepthChart } from "../Charts.js";
import { QueryView } from "../States.js";

/** One interval's orders (as the gateway indexed them from the chain) and its depth. */
export function OrderBookView({ interval }: { interval: number }) {
  const token = useToken();
  const book = useGateway<Book>(`/v1/intervals/${interval}/book?limit=200`, 2_000);
  return (
    <QueryView
      query={book}
      what={`the order book of interval ${interval}`}
      isEmpty={(b) => b.orders.length === 0}
      empty={`No orders for interval ${interval} yet.`}
    >
      {(b) => (
        <div className="stack" data-testid="order-book">
          <DepthChart
            priceLabel={`price (${token?.symbol ?? "token"}/kWh)`}
            offers={b.depth.offers.map((l) => ({
              price: scaled(l.price, token?.decimals),
              cumulativeWh: Number(l.cumulativeWh),
            }))}
            bids={b.depth.bids.map((l) => ({
              price: scaled(l.price, token?.decimals),
              cumulativeWh: Number(l.cumulativeWh),
            }))}
          />
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Order</th>
                  <th>Side</th>
                  <th>Owner</th>
                  <th className="num">Energy</th>
                  <th className="num">Limit price</th>
                  <th className="num">Filled</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {b.orders.map((o) => (
                  <tr key={o.orderId}>
                    <td>#{o.orderId}</td>
                    <td>{o.side === "offer" ? "Offer" : "Bid"}</td>
                    <td className="mono" title={o.owner}>
                      {shortAddress(o.owner)}
                    </td>
                    <td className="num">{formatEnergy(BigInt(o.maxWh))}</td>
                    <td className="num">{token?.price(o.limitPrice) ?? o.limitPrice}</td>
                    <td className="num">{formatEnergy(BigInt(o.filledWh))}</td>
                    <td>{o.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </QueryView>
  );
}

function scaled(baseUnits: string, decimals: number | undefined): number {
  return Number(baseUnits) / 10 ** (decimals ?? 0);
}
