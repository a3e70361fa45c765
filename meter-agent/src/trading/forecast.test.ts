import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Address, MeterReading } from "@gridmesh/contracts";

import { type Forecast, forecastNetWh } from "./forecast.js";

const METER = "0x00000000000000000000000000000000000000a1" as Address;

/** Readings of intervals `first`, `first + 1`, … with these net exports (negative: net import). */
function readings(first: bigint, nets: number[]): MeterReading[] {
  let imported = 1000n;
  let exported = 0n;
  return nets.map((net, i) => {
    const [imp, exp] = net >= 0 ? [20n, BigInt(net) + 20n] : [BigInt(-net) + 20n, 20n];
    const r = {
      meter: METER,
      interval: first + BigInt(i),
      sequence: BigInt(i + 1),
      importStartWh: imported,
      importEndWh: imported + imp,
      exportStartWh: exported,
      exportEndWh: exported + exp,
      timestamp: 0n,
    };
    imported += imp;
    exported += exp;
    return r;
  });
}

const netWh = (f: Forecast) => (f.kind === "forecast" ? f.netWh : f.reason);
const base = { currentInterval: 104n, lookbackIntervals: 4, readingSeconds: 900, marketSeconds: 900 };

describe("forecastNetWh", () => {
  it("averages the net export of the last intervals' readings", () => {
    assert.equal(netWh(forecastNetWh({ ...base, readings: readings(100n, [100, 200, 300, 400]) })), 250);
    assert.equal(netWh(forecastNetWh({ ...base, readings: readings(100n, [-100, -300, 0, -200]) })), -150);
  });

  it("counts only readings within the lookback, and none from the current interval on", () => {
    const six = readings(98n, [9000, 9000, 100, 100, 300, 300]);
    assert.equal(netWh(forecastNetWh({ ...base, readings: six })), 200);
    assert.equal(netWh(forecastNetWh({ ...base, lookbackIntervals: 2, readings: six })), 300);
    const ahead = readings(103n, [100, 5000]);
    assert.equal(netWh(forecastNetWh({ ...base, readings: ahead })), 100);
  });

  it("averages what there is across a gap in the readings", () => {
    const gap = [...readings(100n, [400]), ...readings(103n, [200])];
    const f = forecastNetWh({ ...base, readings: gap });
    assert.deepEqual([netWh(f), f.kind === "forecast" && f.readingsUsed], [300, 2]);
  });

  it("forecasts nothing without a recent reading", () => {
    assert.match(
      String(netWh(forecastNetWh({ ...base, readings: [] }))),
      /no reading of the last 4 intervals/,
    );
    const stale = readings(90n, [100, 100, 100]);
    assert.match(String(netWh(forecastNetWh({ ...base, readings: stale }))), /no reading/);
  });

  it("scales readings to the market's interval and rounds towards zero", () => {
    // One-minute readings, fifteen-minute market intervals.
    const minute = { ...base, readingSeconds: 60, marketSeconds: 900 };
    assert.equal(netWh(forecastNetWh({ ...minute, readings: readings(100n, [10, 20, 30, 40]) })), 375);
    assert.equal(netWh(forecastNetWh({ ...base, readings: readings(101n, [-10, -11, -11]) })), -10);
  });

  describe("with a battery behind the meter", () => {
    const hour = {
      ...base,
      readingSeconds: 3600,
      marketSeconds: 3600,
      readings: readings(100n, [0, 0, 0, 0]),
    };
    const battery = { voltage: 50, capacity: 100 };

    it("changes nothing while the battery can go on as it does", () => {
      const f = forecastNetWh({ ...hour, battery: { ...battery, current: -10, stateOfCharge: 0.5 } });
      assert.deepEqual(f.kind === "forecast" && [f.netWh, f.batteryWh], [0, 0]);
    });

    it("expects more export when a charging battery is about to be full", () => {
      // Charging at 1 kW with 50 Wh of room: 950 Wh of the hour's surplus now goes out.
      const f = forecastNetWh({ ...hour, battery: { ...battery, current: -20, stateOfCharge: 0.99 } });
      assert.equal(netWh(f), 950);
    });

    it("expects more import when a discharging battery is about to run out", () => {
      // Covering 500 W with 100 Wh left: the other 400 Wh come from the grid.
      const f = forecastNetWh({ ...hour, battery: { ...battery, current: 10, stateOfCharge: 0.02 } });
      assert.equal(netWh(f), -400);
    });

    it("ignores a battery reporting nonsense", () => {
      const f = forecastNetWh({
        ...hour,
        battery: { ...battery, voltage: 0, current: -20, stateOfCharge: 1 },
      });
      assert.equal(netWh(f), 0);
    });
  });
});
