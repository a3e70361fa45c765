import type { MeterReading } from "@gridmesh/contracts";

import type { BatteryStatus } from "../bal/battery.js";

export interface ForecastParameters {
  /** The store's newest readings, in any order. */
  readings: readonly MeterReading[];
  /** The interval the agent's clock is in now, in the readings' numbering. */
  currentInterval: bigint;
  /** How many intervals back readings count; older ones are stale. */
  lookbackIntervals: number;
  /** Length of one reading's interval and of one market interval, in seconds. */
  readingSeconds: number;
  marketSeconds: number;
  /** The home battery now, when it has one that could be read. */
  battery?: Pick<BatteryStatus, "voltage" | "current" | "capacity" | "stateOfCharge">;
}

export type Forecast =
  | {
      kind: "forecast";
      /** Expected net export over the market interval, in Wh: positive a surplus, negative a deficit. */
      netWh: number;
      /** The part from the readings alone: their average net export, scaled to a market interval. */
      readingsWh: number;
      /** What the battery changes: zero, unless it is about to fill up or run out. */
      batteryWh: number;
      readingsUsed: number;
    }
  | { kind: "none"; reason: string };

/**
 * The home's net surplus (positive) or deficit (negative) for a coming market interval, by
 * persistence: the next interval looks like the last few.
 *
 * 1. Readings. The average of (exported − imported) Wh over the readings of the last
 *    `lookbackIntervals` intervals, scaled from the reading interval to the market interval. No
 *    reading that recent: no forecast (the agent was down or its meter unreadable, and a guess
 *    would be traded with the owner's money).
 * 2. Battery. The battery sits behind the meter, so what it did is already in the readings: a
 *    charging battery lowered the export, a discharging one the import. Persistence assumes it
 *    keeps doing what it does now, which it cannot past full or empty: its energy over the interval
 *    is clipped to the room left (charging) or the charge left (discharging), and the difference is
 *    added back. A battery charging at 1 kW with 200 Wh of room left exports the other 800 Wh of
 *    an hour; one covering 500 W of load with 100 Wh left imports the other 400 Wh.
 *
 * Rounded towards zero, so an order is never larger than the forecast. Simple on purpose: the
 * owner's delegation bounds what it can cost, and the seller's collateral prices a shortfall.
 */
export function forecastNetWh(p: ForecastParameters): Forecast {
  const oldest = p.currentInterval - BigInt(p.lookbackIntervals);
  const recent = p.readings.filter((r) => r.interval >= oldest && r.interval < p.currentInterval);
  if (recent.length === 0) {
    return { kind: "none", reason: `no reading of the last ${p.lookbackIntervals} intervals` };
  }
  const netPerReading =
    recent.reduce(
      (sum, r) => sum + Number(r.exportEndWh - r.exportStartWh) - Number(r.importEndWh - r.importStartWh),
      0,
    ) / recent.length;
  const readingsWh = (netPerReading * p.marketSeconds) / p.readingSeconds;
  const batteryWh = p.battery === undefined ? 0 : batteryChange(p.battery, p.marketSeconds);
  return {
    kind: "forecast",
    netWh: Math.trunc(readingsWh + batteryWh),
    readingsWh,
    batteryWh,
    readingsUsed: recent.length,
  };
}

/** How much more (positive) or less the home exports because the battery hits full or empty. */
function batteryChange(b: NonNullable<ForecastParameters["battery"]>, seconds: number): number {
  const { voltage, current, capacity, stateOfCharge: soc } = b;
  if (![voltage, current, capacity, soc].every(Number.isFinite) || voltage <= 0) return 0;
  // Positive current discharges (ARCHITECTURE §4): energy into the home, out of the battery.
  const nowWh = (current * voltage * seconds) / 3600;
  const roomWh = Math.max(0, 1 - soc) * capacity * voltage;
  const leftWh = Math.max(0, soc) * capacity * voltage;
  const nextWh = Math.min(Math.max(nowWh, -roomWh), leftWh);
  return nextWh - nowWh;
}
