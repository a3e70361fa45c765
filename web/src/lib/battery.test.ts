import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { flowOf, groupBatteries, powerW, socSeries, storedWh } from "./battery.js";
import type { BatteryState, StoredBatteryReport } from "./gatewayTypes.js";

const state = (name: string, over: Partial<BatteryState> = {}): BatteryState => ({
  name,
  kind: "physical",
  source: "",
  error: "",
  capacityMah: 200_000,
  stateOfChargePpm: 500_000,
  expectedCapacityMah: 200_000,
  expectedStateOfChargePpm: 500_000,
  voltageMv: 51_200,
  currentMa: 0,
  maxChargeMa: 60_000,
  maxDischargeMa: 60_000,
  chargedMah: 0,
  dischargedMah: 0,
  ...over,
});
const report = (takenAt: number, batteries: BatteryState[]): StoredBatteryReport => ({
  meter: `0x${"ab".repeat(20)}`,
  takenAt,
  batteries,
  signature: `0x${"00".repeat(65)}`,
  receivedAt: new Date(takenAt * 1000).toISOString(),
});

describe("battery views", () => {
  it("puts partitions under their source, and an orphan partition on its own", () => {
    const groups = groupBatteries([
      state("home"),
      state("household", { kind: "partition", source: "home" }),
      state("share", { kind: "partition", source: "home" }),
      state("stray", { kind: "partition", source: "gone" }),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.battery.name, g.partitions.map((p) => p.name)]),
      [
        ["home", ["household", "share"]],
        ["stray", []],
      ],
    );
  });

  it("computes stored energy and power in watt-hours and watts, discharging positive", () => {
    // 200 Ah at 50 % and 51.2 V is 5.12 kWh.
    assert.equal(storedWh(state("home")), 5_120);
    assert.equal(powerW(state("home", { currentMa: -10_000 })), -512);
    assert.equal(flowOf(state("home", { currentMa: -10_000 })), "charging");
    assert.equal(flowOf(state("home", { currentMa: 10_000 })), "discharging");
    assert.equal(flowOf(state("home", { currentMa: 20 })), "idle");
  });

  it("averages state of charge per bucket, leaves out buckets with nothing readable and skips partitions", () => {
    const from = 1_000;
    const series = socSeries(
      [
        report(1_000, [
          state("home", { stateOfChargePpm: 400_000 }),
          state("p", { kind: "partition", source: "home" }),
        ]),
        report(1_050, [state("home", { stateOfChargePpm: 600_000 })]),
        // Bucket 1 has no report; bucket 2 has one whose battery could not be read.
        report(1_200, [state("home", { error: "BMS silent", stateOfChargePpm: 0 })]),
        report(1_300, [
          state("home", { stateOfChargePpm: 700_000 }),
          state("spare", { stateOfChargePpm: 300_000 }),
        ]),
        report(5_000, [state("home", { stateOfChargePpm: 100_000 })]), // after the period
      ],
      from,
      100,
      4,
    );
    // Nothing readable in buckets 1 and 2: left out, not drawn as an empty battery.
    assert.deepEqual(series.starts, [1_000, 1_300]);
    assert.deepEqual(series.lines, [
      { name: "home", values: [50, 70] },
      // A battery first heard of later keeps its line across the earlier bucket.
      { name: "spare", values: [30, 30] },
    ]);
  });
});
