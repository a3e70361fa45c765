import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { BatteryDriver } from "./batteryDriver.js";
import { BatteryRangeError, BatteryUnavailableError, TopologyConfigError } from "./errors.js";
import { PhysicalBattery } from "./physicalBattery.js";
import { simulatedBattery } from "./simulatedBattery.js";

const hour = 3_600_000;

function setup(stateOfCharge = 0.5) {
  const time = { now: 1_700_000_000_000 };
  const clock = () => time.now;
  const { battery, driver } = simulatedBattery(
    "P",
    { capacity: 100, stateOfCharge, maxChargeCurrent: 20, maxDischargeCurrent: 40, voltage: 48 },
    clock,
  );
  return { time, battery, driver };
}

describe("PhysicalBattery over a simulated cell", () => {
  it("reports an atomic snapshot with units, sign and a timestamp interval", async () => {
    const { time, battery } = setup();
    const status = await battery.getStatus();
    assert.deepEqual(status, {
      capacity: 100,
      stateOfCharge: 0.5,
      maxChargeCurrent: 20,
      maxDischargeCurrent: 40,
      voltage: 48,
      current: 0,
      expected: { capacity: 100, stateOfCharge: 0.5, maxChargeCurrent: 20, maxDischargeCurrent: 40 },
      timestamp: [time.now, time.now],
    });
  });

  it("follows the applied current over time: positive discharges, negative charges", async () => {
    const { time, battery } = setup();
    await battery.setCurrent(10);
    time.now += 1.5 * hour;
    let status = await battery.getStatus();
    assert.equal(status.current, 10);
    assert.equal(status.stateOfCharge, 0.35);
    await battery.setCurrent(-20);
    time.now += 0.5 * hour;
    status = await battery.getStatus();
    assert.equal(status.current, -20);
    assert.equal(status.stateOfCharge, 0.45);
  });

  it("stops at empty and full, and then refuses to go further", async () => {
    const { time, battery } = setup(0.1);
    await battery.setCurrent(40);
    time.now += hour; // 10 Ah run out after 15 minutes
    let status = await battery.getStatus();
    assert.equal(status.stateOfCharge, 0);
    assert.equal(status.current, 0);
    assert.equal(status.maxDischargeCurrent, 0);
    assert.equal(status.expected.maxDischargeCurrent, 40);
    await assert.rejects(battery.setCurrent(1), BatteryRangeError);

    await battery.setCurrent(-20);
    time.now += 10 * hour;
    status = await battery.getStatus();
    assert.equal(status.stateOfCharge, 1);
    assert.equal(status.current, 0);
    assert.equal(status.maxChargeCurrent, 0);
    await assert.rejects(battery.setCurrent(-1), BatteryRangeError);
  });

  it("rejects requests beyond its limits with a clear error and changes nothing", async () => {
    const { time, battery } = setup();
    await battery.setCurrent(5);
    await assert.rejects(battery.setCurrent(40.5), (error: unknown) => {
      assert.ok(error instanceof BatteryRangeError);
      assert.match(error.message, /battery "P": cannot discharge at 40.5 A, the limit is 40 A/);
      assert.equal(error.retryable, false);
      return true;
    });
    await assert.rejects(battery.setCurrent(-21), /cannot charge at 21 A, the limit is 20 A/);
    await assert.rejects(battery.setCurrent(Number.NaN), BatteryRangeError);
    time.now += hour;
    const status = await battery.getStatus();
    assert.equal(status.current, 5);
    assert.equal(status.stateOfCharge, 0.45);
  });

  it("accepts exactly its limits", async () => {
    const { battery } = setup();
    await battery.setCurrent(40);
    await battery.setCurrent(-20);
    assert.equal((await battery.getStatus()).current, -20);
  });

  it("wraps driver failures as retryable errors naming the battery", async () => {
    const broken: BatteryDriver = {
      read: () => Promise.reject(new Error("no response from /dev/ttyUSB0")),
      setCurrent: () => Promise.reject(new Error("unreachable")),
    };
    const battery = new PhysicalBattery("J", broken, { maxChargeCurrent: 1, maxDischargeCurrent: 1 });
    await assert.rejects(battery.getStatus(), (error: unknown) => {
      assert.ok(error instanceof BatteryUnavailableError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /battery "J": read status failed: no response/);
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });

  it("refuses negative or missing limits", () => {
    const driver: BatteryDriver = {
      read: () => Promise.reject(new Error()),
      setCurrent: () => Promise.resolve(),
    };
    assert.throws(
      () => new PhysicalBattery("J", driver, { maxChargeCurrent: -1, maxDischargeCurrent: Number.NaN }),
      (error: unknown) => error instanceof TopologyConfigError && error.problems.length === 2,
    );
  });

  it("models drift: stored charge can change with no current", async () => {
    const { battery, driver } = setup();
    driver.adjustCharge(-7);
    assert.equal((await battery.getStatus()).stateOfCharge, 0.43);
  });
});
