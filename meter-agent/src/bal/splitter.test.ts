import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { PartitionPolicy } from "./allocate.js";
import type { Battery } from "./battery.js";
import { BatteryRangeError, TopologyConfigError } from "./errors.js";
import { simulatedBattery } from "./simulatedBattery.js";
import { Splitter, type PartitionSpec } from "./splitter.js";

const hour = 3_600_000;

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

function split(
  source: { capacity: number; stateOfCharge: number; maxChargeCurrent: number; maxDischargeCurrent: number },
  specs: PartitionSpec[],
  policy: PartitionPolicy = "proportional",
) {
  const time = { now: 0 };
  const clock = () => time.now;
  const { battery, driver } = simulatedBattery("A", source, clock);
  const splitter = new Splitter(battery, specs, policy, clock);
  return { time, source: battery, driver, splitter, parts: splitter.partitions };
}

async function charges(parts: readonly Battery[]) {
  const statuses = await Promise.all(parts.map((p) => p.getStatus()));
  return {
    actual: statuses.map((s) => s.stateOfCharge * s.capacity),
    expected: statuses.map((s) => s.expected.stateOfCharge * s.expected.capacity),
    maxima: statuses.map((s) => s.capacity),
  };
}

function closeAll(actual: number[], expected: number[]): void {
  actual.forEach((a, i) => close(a, expected[i]!));
}

const thirds: PartitionSpec[] = [
  { name: "P1", fraction: 0.5 },
  { name: "P2", fraction: 0.3 },
  { name: "P3", fraction: 0.2 },
];
const currents = { maxChargeCurrent: 100, maxDischargeCurrent: 100 };

describe("Splitter", () => {
  it("Table III.2.6: actual charge 90 below expected 100, per policy", async () => {
    const rows: [PartitionPolicy, number[]][] = [
      ["proportional", [45, 27, 18]],
      ["tranched", [50, 30, 10]],
      ["reserved", [50, 30, 10]],
    ];
    for (const [policy, table] of rows) {
      // Capacity 200 Ah so that no maximum binds; the partitions start balanced at 50/30/20.
      const { driver, parts } = split({ capacity: 200, stateOfCharge: 0.5, ...currents }, thirds, policy);
      closeAll((await charges(parts)).actual, [50, 30, 20]);
      driver.adjustCharge(-10);
      const { actual, expected } = await charges(parts);
      closeAll(actual, table);
      closeAll(expected, [50, 30, 20]);
    }
  });

  it("Table III.2.7: actual charge 110 above expected 100, per policy", async () => {
    const rows: [PartitionPolicy, number[]][] = [
      ["proportional", [55, 33, 22]],
      ["tranched", [60, 30, 20]],
      ["reserved", [50, 30, 30]],
    ];
    for (const [policy, table] of rows) {
      const { driver, splitter, parts } = split(
        { capacity: 200, stateOfCharge: 0.5, ...currents },
        thirds,
        policy,
      );
      await splitter.accounting(); // the books open at 50/30/20
      driver.adjustCharge(10);
      const { actual, expected } = await charges(parts);
      closeAll(actual, table);
      closeAll(expected, [50, 30, 20]);
    }
  });

  it("Table III.2.8: with 125 Ah in all, P3's maximum is 25 and the rest of the surplus goes to P2", async () => {
    const { driver, splitter, parts } = split(
      { capacity: 125, stateOfCharge: 0.8, ...currents },
      thirds,
      "reserved",
    );
    await splitter.accounting();
    driver.adjustCharge(10);
    const { actual, maxima } = await charges(parts);
    closeAll(maxima, [62.5, 37.5, 25]);
    closeAll(actual, [50, 35, 25]);
    // P3 is full: it can no longer charge, while P2 still can.
    assert.equal((await parts[2]!.getStatus()).maxChargeCurrent, 0);
    assert.ok((await parts[1]!.getStatus()).maxChargeCurrent > 0);
  });

  it("Table III.2.9: P1 discharging 40 A against P2 charging 50 A charges A at 10 A", async () => {
    const { time, source, splitter, parts } = split(
      { capacity: 200, stateOfCharge: 0.5, maxChargeCurrent: 100, maxDischargeCurrent: 100 },
      [
        { name: "P1", fraction: 0.4, charge: 80 },
        { name: "P2", fraction: 0.6, charge: 20 },
      ],
    );
    const [P1, P2] = parts as [Battery, Battery];
    let [p1, p2, a] = await Promise.all([P1.getStatus(), P2.getStatus(), source.getStatus()]);
    assert.equal(p1.capacity, 80);
    assert.equal(p1.stateOfCharge, 1);
    assert.equal(p2.capacity, 120);
    // The table prints 20 Ah of 120 Ah as 16 %.
    assert.equal(Math.floor(p2.stateOfCharge * 100), 16);
    assert.equal(a.capacity, 200);
    assert.equal(a.stateOfCharge, 0.5);

    await P1.setCurrent(40);
    await P2.setCurrent(-50);
    a = await source.getStatus();
    assert.equal(a.current, -10);

    // "In 2 hours, P1's state of charge will decrease to 0% and it will stop discharging … P2's
    // state of charge will be 100%, having drawn 20Ah from external charging and 80Ah from P1."
    time.now += 2 * hour;
    [p1, p2] = await Promise.all([P1.getStatus(), P2.getStatus()]);
    close(p1.stateOfCharge, 0);
    close(p2.stateOfCharge, 1);
    assert.equal(p1.current, 0);
    assert.equal(p2.current, 0);
    a = await source.getStatus();
    close(a.stateOfCharge, 0.6);
    assert.equal(a.current, 0);
    const books = await splitter.accounting();
    close(books.virtualTransfer, 80);
    close(books.sourceCharged, 20);
    assert.equal(books.sourceDischarged, 0);
    close(books.partitions[0]!.discharged, 80);
    close(books.partitions[1]!.charged, 100);
  });

  it("Table III.2.11: a proportional split of 200 Ah, 80 A charge, 100 A discharge", async () => {
    const { time, source, splitter, parts } = split(
      { capacity: 200, stateOfCharge: 0.5, maxChargeCurrent: 80, maxDischargeCurrent: 100 },
      thirds,
    );
    const table = [
      [100, 40, 50],
      [60, 24, 30],
      [40, 16, 20],
    ];
    for (const [i, [capacity, charge, discharge]] of table.entries()) {
      const s = await parts[i]!.getStatus();
      close(s.capacity, capacity!);
      close(s.maxChargeCurrent, charge!);
      close(s.maxDischargeCurrent, discharge!);
    }
    const [P1, P2] = parts as [Battery, Battery];
    // "If software tells P1 and P2 to both discharge at 20A, BOS calls SetDischarge on the source
    // battery with 40A."
    await P1.setCurrent(20);
    await P2.setCurrent(20);
    assert.equal((await source.getStatus()).current, 40);
    // "If software tells P1 to charge at 20A and P2 to discharge at 20A, then BOS stops
    // charging/discharging the source … shifting charge from P2 to P1."
    await P1.setCurrent(-20);
    assert.equal((await source.getStatus()).current, 0);
    const before = await charges(parts);
    time.now += hour;
    const after = await charges(parts);
    close(after.actual[0]! - before.actual[0]!, 20);
    close(after.actual[1]! - before.actual[1]!, -20);
    close(after.actual[2]!, before.actual[2]!);
    close((await source.getStatus()).stateOfCharge, 0.5);
    // The virtual meter's view: P1 drew 20 Ah while P2 supplied 20 Ah.
    const books = await splitter.accounting();
    close(books.partitions[0]!.charged, 20);
    close(books.partitions[1]!.discharged, 20);
    close(books.virtualTransfer, 20);
  });

  it("serialises concurrent requests from different partitions into one net source command", async () => {
    const { source, parts } = split({ capacity: 200, stateOfCharge: 0.5, ...currents }, thirds);
    await Promise.all([parts[0]!.setCurrent(20), parts[1]!.setCurrent(-5), parts[2]!.setCurrent(10)]);
    assert.equal((await source.getStatus()).current, 25);
  });

  it("rejects a partition request beyond its share and leaves source and books unchanged", async () => {
    const { source, splitter, parts } = split(
      { capacity: 200, stateOfCharge: 0.5, maxChargeCurrent: 80, maxDischargeCurrent: 100 },
      thirds,
    );
    await parts[0]!.setCurrent(10);
    await assert.rejects(parts[0]!.setCurrent(50.5), (error: unknown) => {
      assert.ok(error instanceof BatteryRangeError);
      assert.match(error.message, /battery "P1": cannot discharge at 50.5 A, the limit is 50 A/);
      return true;
    });
    await assert.rejects(parts[2]!.setCurrent(-17), /battery "P3": cannot charge at 17 A, the limit is 16 A/);
    assert.equal((await source.getStatus()).current, 10);
    assert.deepEqual(
      (await splitter.accounting()).partitions.map((p) => p.current),
      [10, 0, 0],
    );
  });

  it("a partition with no charge left cannot discharge even while the source can", async () => {
    const { parts } = split({ capacity: 200, stateOfCharge: 0.5, ...currents }, [
      { name: "P1", fraction: 0.5, charge: 100 },
      { name: "P2", fraction: 0.5, charge: 0 },
    ]);
    const p2 = await parts[1]!.getStatus();
    assert.equal(p2.maxDischargeCurrent, 0);
    await assert.rejects(parts[1]!.setCurrent(1), BatteryRangeError);
    const p1 = await parts[0]!.getStatus();
    assert.equal(p1.maxChargeCurrent, 0);
  });

  it("does not record a request the source refuses", async () => {
    const time = { now: 0 };
    const { battery } = simulatedBattery(
      "A",
      { capacity: 10, stateOfCharge: 1, maxChargeCurrent: 5, maxDischargeCurrent: 5 },
      () => time.now,
    );
    const refusing: Battery = {
      name: "A",
      getStatus: () => battery.getStatus(),
      setCurrent: () => Promise.reject(new Error("link down")),
    };
    const splitter = new Splitter(refusing, thirds, "proportional", () => time.now);
    await assert.rejects(splitter.partitions[0]!.setCurrent(1), /link down/);
    assert.equal((await splitter.partitions[0]!.getStatus()).current, 0);
  });

  it("validates its partitions, naming them", () => {
    const { battery } = simulatedBattery("A", { capacity: 10, stateOfCharge: 1, ...currents });
    assert.throws(
      () =>
        new Splitter(battery, [
          { name: "X", fraction: 0.7 },
          { name: "X", fraction: 0.7, charge: -1 },
        ]),
      (error: unknown) => {
        assert.ok(error instanceof TopologyConfigError);
        assert.deepEqual(error.problems, [
          'partition "X": name used twice',
          'partition "X": charge must be a non-negative number of Ah, got -1',
          'splitter of "A": partition fractions must sum to 1, got 1.4',
        ]);
        return true;
      },
    );
  });
});
