"use client";

import type { ClearingSummary, Page } from "../../lib/gatewayTypes.js";
import { useChainTime } from "../../hooks/useChainTime.js";
import { useGateway } from "../../hooks/useGateway.js";
import { useToken } from "../../hooks/useToken.js";
import { formatEnergy } from "../../lib/units.js";
import { LineChart } from "../Charts.js";
import { QueryView } from "../States.js";
import { useDeployment } from "../Providers.js";

/** Clearing prices and volumes of the last day's intervals. */
export function PriceHistory() {
  const { market } = useDeployment();
  const token = useToken();
  const { now } = useChainTime();
  const perDay = Math.ceil(86_400 / market.intervalSeconds);
  const from = now === undefined ? null : Math.max(0, Math.floor(now / market.intervalSeconds) - perDay);
  const clearings = useGateway<Page<ClearingSummary>>(
    from === null ? null : `/v1/clearings?from=${from}&limit=500`,
    5_000,
  );
  return (
    <QueryView
      query={clearings}
      what="clearing prices"
      isEmpty={(p) => p.items.length === 0}
      empty="No interval has cleared in the last day yet."
    >
      {(p) => {
        const traded = p.items.filter((c) => c.volumeWh !== "0");
        const decimals = token?.decimals ?? 0;
        return (
          <div className="stack" data-testid="price-history">
            <LineChart
              title="Clearing price by interval"
              labels={traded.map((c) => c.interval)}
              series={[
                {
                  name: `clearing price (${token?.symbol ?? "token"}/kWh)`,
                  color: "var(--accent)",
                  values: traded.map((c) => Number(c.price) / 10 ** decimals),
                },
              ]}
            />
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Interval</th>
                    <th className="num">Price</th>
                    <th className="num">Volume</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {[...p.items]
                    .reverse()
                    .slice(0, 12)
                    .map((c) => (
                      <tr key={c.interval}>
                        <td>{c.interval}</td>
                        <td className="num">
                          {c.volumeWh === "0" ? "—" : (token?.price(c.price) ?? c.price)}
                        </td>
                        <td className="num">{formatEnergy(BigInt(c.volumeWh))}</td>
                        <td>{c.status}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </div>
        );
      }}
    </QueryView>
  );
}
