"use client";

import { energyMarketAbi } from "@gridmesh/contracts";

import { useContractTx } from "../../hooks/useContractTx.js";
import { useGateway } from "../../hooks/useGateway.js";
import { useToken } from "../../hooks/useToken.js";
import type { Order, Page } from "../../lib/gatewayTypes.js";
import { formatEnergy } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { ConnectFirst, QueryView } from "../States.js";
import { TxStatus } from "../TxStatus.js";
import { useConnection } from "wagmi";

/** The connected account's open orders, each cancellable until its gate closes. */
export function MyOrders() {
  const { contracts } = useDeployment();
  const { address } = useConnection();
  const token = useToken();
  const tx = useContractTx();
  const orders = useGateway<Page<Order>>(
    address === undefined ? null : `/v1/orders?owner=${address.toLowerCase()}&status=open&limit=100`,
    3_000,
  );
  if (address === undefined) return <ConnectFirst to="see your orders" />;
  return (
    <div className="stack">
      <QueryView
        query={orders}
        what="your open orders"
        isEmpty={(p) => p.items.length === 0}
        empty="You have no open orders."
      >
        {(p) => (
          <div className="table-wrap">
            <table data-testid="my-orders">
              <thead>
                <tr>
                  <th>Order</th>
                  <th>Interval</th>
                  <th>Side</th>
                  <th className="num">Energy</th>
                  <th className="num">Limit</th>
                  <th className="num">Deposit</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {p.items.map((o) => (
                  <tr key={o.orderId}>
                    <td>#{o.orderId}</td>
                    <td>{o.interval}</td>
                    <td>{o.side}</td>
                    <td className="num">{formatEnergy(BigInt(o.maxWh))}</td>
                    <td className="num">{token?.price(o.limitPrice) ?? o.limitPrice}</td>
                    <td className="num">{token?.money(o.deposit) ?? o.deposit}</td>
                    <td>
                      <button
                        className="secondary"
                        onClick={() =>
                          void tx.send([
                            {
                              address: contracts.energyMarket,
                              abi: energyMarketAbi,
                              functionName: "cancelOrder",
                              args: [BigInt(o.orderId)],
                              what: `Cancel order #${o.orderId}`,
                            },
                          ])
                        }
                      >
                        Cancel
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      <TxStatus state={tx.state} />
    </div>
  );
}
