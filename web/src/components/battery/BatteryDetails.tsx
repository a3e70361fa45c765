"use client";

import { flowOf, groupBatteries, powerW, socPercent, storedWh } from "../../lib/battery.js";
import { formatTime } from "../../lib/format.js";
import type { BatteryState, LatestBatteryReport } from "../../lib/gatewayTypes.js";
import { useGateway } from "../../hooks/useGateway.js";
import { QueryView } from "../States.js";

const ah = (mah: number) => `${(mah / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 })} Ah`;
const kwh = (wh: number) => `${(wh / 1000).toLocaleString(undefined, { maximumFractionDigits: 2 })} kWh`;
const kw = (w: number) =>
  `${(Math.abs(w) / 1000).toLocaleString(undefined, { maximumFractionDigits: 2 })} kW`;

/** The meter's latest battery report: every battery of the home and the partitions it is split into. */
export function BatteryDetails({ meter }: { meter: string }) {
  const query = useGateway<LatestBatteryReport>(`/v1/devices/${meter}/battery`, 10_000);
  return (
    <QueryView
      query={query}
      what="the battery report"
      isEmpty={(r) => r.latest === null}
      empty="No battery reported by this meter (none fitted, or its agent does not report yet)."
    >
      {({ latest }) => (
        <>
          <p className="note">Reported {formatTime(latest!.takenAt)}, signed by the meter.</p>
          <div className="table-wrap">
            <table data-testid="battery-partitions">
              <thead>
                <tr>
                  <th>Battery</th>
                  <th>Kind</th>
                  <th>Charge</th>
                  <th>Stored</th>
                  <th>Capacity</th>
                  <th>Now</th>
                  <th>Charged / discharged</th>
                </tr>
              </thead>
              <tbody>
                {groupBatteries(latest!.batteries).flatMap((g) => [
                  <BatteryRow key={g.battery.name} battery={g.battery} />,
                  ...g.partitions.map((p) => <BatteryRow key={p.name} battery={p} partition />),
                ])}
              </tbody>
            </table>
          </div>
        </>
      )}
    </QueryView>
  );
}

function BatteryRow({ battery: b, partition = false }: { battery: BatteryState; partition?: boolean }) {
  if (b.error !== "") {
    return (
      <tr data-battery={b.name}>
        <td>{partition ? `↳ ${b.name}` : b.name}</td>
        <td>{b.kind}</td>
        <td colSpan={5} className="error">
          Not readable: {b.error}
        </td>
      </tr>
    );
  }
  const flow = flowOf(b);
  return (
    <tr data-battery={b.name}>
      <td>{partition ? `↳ ${b.name}` : b.name}</td>
      <td>{partition ? `partition of ${b.source}` : b.kind}</td>
      <td data-testid="soc">{socPercent(b).toFixed(1)} %</td>
      <td>{kwh(storedWh(b))}</td>
      <td>{ah(b.capacityMah)}</td>
      <td>{flow === "idle" ? "idle" : `${flow} ${kw(powerW(b))}`}</td>
      <td>{partition ? `${ah(b.chargedMah)} / ${ah(b.dischargedMah)}` : "—"}</td>
    </tr>
  );
}
