"use client";

import { useQuery } from "@tanstack/react-query";

import { fetchGateway } from "../../hooks/useGateway.js";
import { flowOf, groupBatteries, powerW, socPercent, socSeries, storedWh } from "../../lib/battery.js";
import type { Page, StoredBatteryReport } from "../../lib/gatewayTypes.js";
import { periods, type PeriodKey } from "../../lib/periods.js";
import { LineChart } from "../Charts.js";
import { QueryView } from "../States.js";

const COLORS = ["var(--offer)", "var(--bid)", "var(--warn)", "var(--accent)"];

/**
 * The dashboard's batteries: for each meter that reports one, its state of charge now (with its
 * partitions) and over the selected period.
 */
export function BatteryOverview({
  meters,
  period,
  now,
  labelOf,
}: {
  meters: readonly string[];
  period: PeriodKey;
  /** Unix seconds; undefined until the chain's time is known. */
  now: number | undefined;
  labelOf: (start: number) => string;
}) {
  const { seconds, buckets } = periods[period];
  const query = useQuery({
    queryKey: ["batteries", meters.join(), period, now],
    enabled: now !== undefined,
    refetchInterval: 10_000,
    placeholderData: (previous) => previous,
    queryFn: () =>
      Promise.all(
        meters.map(async (meter) => ({
          meter,
          reports: (
            await fetchGateway<Page<StoredBatteryReport>>(
              `/v1/devices/${meter}/battery-reports?from=${now! - seconds}&limit=1000`,
            )
          ).items,
        })),
      ),
  });
  return (
    <QueryView
      query={query}
      what="your batteries"
      isEmpty={(all) => all.every((m) => m.reports.length === 0)}
      empty="No battery has reported in this period."
    >
      {(all) => (
        <div className="stack" data-testid="batteries">
          {all
            .filter((m) => m.reports.length > 0)
            .map(({ meter, reports }) => {
              const latest = reports.at(-1)!;
              const series = socSeries(reports, now! - seconds, seconds / buckets, buckets);
              return (
                <section className="card" key={meter}>
                  <h2>
                    Battery <span className="mono note">{meter.slice(0, 10)}…</span>
                  </h2>
                  <div className="grid">
                    <div className="stats">
                      {groupBatteries(latest.batteries).flatMap((g) =>
                        [g.battery, ...g.partitions].map((b) => (
                          <div className="stat" key={b.name} data-battery={b.name}>
                            <div className="label">
                              {b.kind === "partition" ? `${b.name} (share of ${b.source})` : b.name}
                            </div>
                            <div className="value">
                              {b.error !== "" ? "unreadable" : `${socPercent(b).toFixed(0)} %`}
                            </div>
                            {b.error === "" ? (
                              <div className="note">
                                {(storedWh(b) / 1000).toFixed(2)} kWh,{" "}
                                {flowOf(b) === "idle"
                                  ? "idle"
                                  : `${flowOf(b)} ${(Math.abs(powerW(b)) / 1000).toFixed(2)} kW`}
                              </div>
                            ) : null}
                          </div>
                        )),
                      )}
                    </div>
                    <LineChart
                      title="State of charge (%)"
                      domain={[0, 100]}
                      labels={series.starts.map(labelOf)}
                      series={series.lines.map((l, i) => ({
                        name: `${l.name} (%)`,
                        color: COLORS[i % COLORS.length]!,
                        values: l.values,
                      }))}
                    />
                  </div>
                </section>
              );
            })}
        </div>
      )}
    </QueryView>
  );
}
