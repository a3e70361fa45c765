import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { JbdBms } from "../serial/jbdBms.js";
import { JbdSimulator } from "../serial/jbdSimulator.js";
import { openSerialLine } from "../serial/openSerialLine.js";
import { BatteryRangeError, BatteryUnavailableError } from "./errors.js";
import { JbdBatteryDriver, jbdMosfetsFor } from "./jbdDriver.js";
import { PhysicalBattery } from "./physicalBattery.js";

const HOUR = 3_600_000;

/** A PhysicalBattery over JbdBatteryDriver over JbdBms on a real pty, the simulator at the far end. */
async function rig(t: TestContext) {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const line = await openSerialLine();
  cleanups.push(() => line.close());
  const { host: hostPort, device: devicePort } = line;
  const time = { now: 1_700_000_000_000 };
  const clock = () => time.now;
  const simulator = new JbdSimulator({
    port: devicePort,
    clock,
    capacityAh: 20,
    stateOfCharge: 0.5,
    sleepAfterMs: 30_000,
  });
  cleanups.push(() => simulator.close());
  const bms = new JbdBms({
    port: hostPort,
    timeoutMs: 200,
    retries: 1,
    quietMs: 20,
    wakeMs: 60,
    idleMs: 10_000,
    now: clock,
  });
  cleanups.push(() => bms.close());
  const battery = new PhysicalBattery(
    "jbd",
    new JbdBatteryDriver(bms),
    { maxChargeCurrent: 10, maxDischargeCurrent: 20 },
    clock,
  );
  return { battery, simulator, bms, time };
}

describe("JbdBatteryDriver", { timeout: 15_000 }, () => {
  it("maps a current's sign to the MOSFETs (magnitude ignored: no regulator)", () => {
    assert.deepEqual(jbdMosfetsFor(3), { charge: false, discharge: true });
    assert.deepEqual(jbdMosfetsFor(-0.1), { charge: true, discharge: false });
    assert.deepEqual(jbdMosfetsFor(0), { charge: false, discharge: false });
  });

  it("backs a PhysicalBattery over a pty: status, FET control and sign", async (t) => {
    const { battery, simulator, time } = await rig(t);
    let status = await battery.getStatus();
    assert.equal(status.capacity, 20);
    assert.equal(status.stateOfCharge, 0.5);
    assert.equal(status.voltage, 12.8);
    assert.equal(status.current, 0);
    assert.deepEqual(status.timestamp, [time.now, time.now]);

    // A 5 A load is connected; discharging is allowed, charging blocked.
    simulator.applyCurrent(5);
    await battery.setCurrent(5);
    assert.deepEqual(simulator.state().mosfets, { charge: false, discharge: true });
    time.now += HOUR;
    status = await battery.getStatus();
    assert.equal(status.current, 5, "positive = discharging, as the BAL wants");
    assert.equal(status.stateOfCharge, 0.25);

    // A charger pushes 2 A, but only a negative target opens the charge FET.
    simulator.applyCurrent(-2);
    time.now += 1000;
    assert.equal((await battery.getStatus()).current, 0, "charge FET still off");
    await battery.setCurrent(-2);
    time.now += HOUR;
    status = await battery.getStatus();
    assert.equal(status.current, -2);
    assert.equal(status.stateOfCharge, 0.35);

    await battery.setCurrent(0);
    assert.deepEqual(simulator.state().mosfets, { charge: false, discharge: false });
    await assert.rejects(battery.setCurrent(25), BatteryRangeError);
  });

  it("survives a sleeping BMS and reports a dead line as unavailable", async (t) => {
    const { battery, simulator, time } = await rig(t);
    time.now += HOUR; // idle: the BMS sleeps and swallows the wake-up request
    assert.equal((await battery.getStatus()).stateOfCharge, 0.5);
    assert.equal(simulator.stats.slept, 1);
    simulator.inject({ kind: "drop" }, 2);
    await assert.rejects(battery.getStatus(), (error: unknown) => {
      assert.ok(error instanceof BatteryUnavailableError);
      assert.match(
        error.message,
        /battery "jbd": read status failed: JBD BMS on \/dev\/pts\/\d+ register 0x03/,
      );
      return true;
    });
  });
});
