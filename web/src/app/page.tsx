"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { BatteryOverview } from "../components/battery/BatteryOverview.js";
import { BarChart } from "../components/Charts.js";
import { useDeployment } from "../components/Providers.js";
import { ConnectFirst, Empty, QueryView } from "../components/States.js";
import { useChainTime } from "../hooks/useChainTime.js";
import { fetchGateway } from "../hooks/useGateway.js";
import { useMyMeters } from "../hooks/useMyMeters.js";
import { useToken } from "../hooks/useToken.js";
import type { Page, StoredReading, Trade } from "../lib/gatewayTypes.js";
import { bucketize, periods, type PeriodKey } from "../lib/periods.js";
import { formatEnergy } from "../lib/units.js";

export default function DashboardPage() {
  const { market } = useDeployment();
  const token = useToken();
  const { now } = useChainTime();
  const { address, data: meters, error: metersError, isPending } = useMyMeters();
  const [period, setPeriod] = useState<PeriodKey>("day");
  // Readings come once per market interval, so the period's end moves by whole intervals: keyed by
  // the minute it changed every real second at 60×, refetching everything each time.
  const step = market.intervalSeconds;
  const bucketNow = now === undefined ? undefined : Math.floor(now / step) * step;

  const data = useQuery({
    queryKey: ["dashboard", address, period, bucketNow, meters?.items.map((m) => m.meter).join()],
    enabled: address !== undefined && meters !== undefined && bucketNow !== undefined,
    refetchInterval: 5_000,
    placeholderData: (previous) => previous,
    queryFn: async () => {
      const from = Math.floor((bucketNow! - periods[period].seconds) / market.intervalSeconds);
      const readings = (
        await Promise.all(
          meters!.items.map((m) =>
            fetchGateway<Page<StoredReading>>(
              `/v1/readings?meter=${m.meter}&fromInterval=${from}&limit=1000`,
            ),
          ),
        )
      ).flatMap((p) => p.items);
      const trades = await fetchGateway<Page<Trade>>(
        `/v1/trades?account=${address!.toLowerCase()}&fromInterval=${from}&limit=1000`,
      );
      return bucketize({
        now: bucketNow!,
        period,
        intervalSeconds: market.intervalSeconds,
        account: address!,
        readings,
        trades: trades.items,
      });
    },
  });

  if (address === undefined) {
    return (
      <>
        <h1>Dashboard</h1>
        <ConnectFirst to="see your meters, energy and earnings" />
      </>
    );
  }
  const labelOf = (start: number) => {
    const d = new Date(start * 1000);
    return period === "week"
      ? d.toLocaleDateString(undefined, { weekday: "short", hour: "2-digit" })
      : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  };
  const decimals = token?.decimals ?? 0;
  return (
    <>
      <h1>Dashboard</h1>
      <section className="card">
        <h2>My meters</h2>
        <QueryView
          query={{ data: meters, error: metersError, isPending }}
          what="your meters"
          isEmpty={(p) => p.items.length === 0}
          empty="No meter is registered to this wallet."
        >
          {(p) => (
            <ul data-testid="my-meters">
              {p.items.map((m) => (
                <li key={m.meter}>
                  <span className="mono">{m.meter}</span>{" "}
                  <span className={`badge ${m.status === "active" ? "good" : "wait"}`}>{m.status}</span>
                </li>
              ))}
            </ul>
          )}
        </QueryView>
      </section>
      <div className="row">
        {(Object.keys(periods) as PeriodKey[]).map((k) => (
          <button key={k} className={k === period ? "" : "secondary"} onClick={() => setPeriod(k)}>
            {periods[k].label}
          </button>
        ))}
      </div>
      {meters !== undefined && meters.items.length === 0 ? (
        <Empty>Register a meter to see its energy here.</Empty>
      ) : (
        <QueryView query={data} what="your energy and trades">
          {(b) => {
            const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
            const total = (xs: bigint[]) => xs.reduce((a, x) => a + x, 0n);
            return (
              <>
                <section className="card">
                  <div className="stats" data-testid="dashboard-totals">
                    <div className="stat">
                      <div className="label">Imported from the grid</div>
                      <div className="value">{formatEnergy(BigInt(sum(b.importedWh)))}</div>
                    </div>
                    <div className="stat">
                      <div className="label">Exported (surplus)</div>
                      <div className="value">{formatEnergy(BigInt(sum(b.exportedWh)))}</div>
                    </div>
                    <div className="stat">
                      <div className="label">Earned selling</div>
                      <div className="value">{token?.money(total(b.earned)) ?? "…"}</div>
                    </div>
                    <div className="stat">
                      <div className="label">Spent buying</div>
                      <div className="value">{token?.money(total(b.spent)) ?? "…"}</div>
                    </div>
                  </div>
                </section>
                <div className="grid">
                  <section className="card">
                    <h2>Energy</h2>
                    <BarChart
                      title="Energy imported and exported"
                      labels={b.starts.map(labelOf)}
                      series={[
                        { name: "imported (Wh)", color: "var(--bid)", values: b.importedWh },
                        { name: "exported (Wh)", color: "var(--offer)", values: b.exportedWh },
                      ]}
                    />
                  </section>
                  <section className="card">
                    <h2>Earnings and spending</h2>
                    <BarChart
                      title="Earnings and spending"
                      labels={b.starts.map(labelOf)}
                      series={[
                        {
                          name: `earned (${token?.symbol ?? ""})`,
                          color: "var(--offer)",
                          values: b.earned.map((x) => Number(x) / 10 ** decimals),
                        },
                        {
                          name: `spent (${token?.symbol ?? ""})`,
                          color: "var(--warn)",
                          values: b.spent.map((x) => Number(x) / 10 ** decimals),
                        },
                      ]}
                    />
                  </section>
                </div>
              </>
            );
          }}
        </QueryView>
      )}
      {meters !== undefined && meters.items.length > 0 ? (
        <>
          <h2>Batteries</h2>
          <BatteryOverview
            meters={meters.items.map((m) => m.meter)}
            period={period}
            now={bucketNow}
            labelOf={labelOf}
          />
        </>
      ) : null}
    </>
  );
}
