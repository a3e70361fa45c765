import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { JbdBms, type JbdBmsOptions } from "./jbdBms.js";
import {
  JbdChecksumError,
  JbdRequestError,
  JbdStatusError,
  JbdTimeoutError,
  JbdValueError,
} from "./jbdErrors.js";
import { encodeCellVoltages, JBD_CELL_VOLTAGES, JBD_STATUS_OK, jbdFrames } from "./jbdFrames.js";
import { JbdSimulator, type JbdSimulatorOptions } from "./jbdSimulator.js";
import { openSerialLine } from "./openSerialLine.js";

const HOUR = 3_600_000;

/** The real driver on the real `serialport` binding, through a socat pty pair, to the simulator. */
async function jbdRig(
  t: TestContext,
  options: { bms?: Partial<JbdBmsOptions>; simulator?: Partial<JbdSimulatorOptions> } = {},
) {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const line = await openSerialLine();
  cleanups.push(() => line.close());
  const { host: hostPort, device: devicePort } = line;
  const clock = { now: 1_700_000_000_000 };
  const simulator = new JbdSimulator({ port: devicePort, clock: () => clock.now, ...options.simulator });
  cleanups.push(() => simulator.close());
  const bms = new JbdBms({
    port: hostPort,
    timeoutMs: 200,
    retries: 2,
    quietMs: 20,
    wakeMs: 60,
    now: () => clock.now,
    ...options.bms,
  });
  cleanups.push(() => bms.close());
  return { bms, simulator, clock, path: line.path };
}

describe("JbdBms against JbdSimulator on a pty", { timeout: 15_000 }, () => {
  it("reads basic info and cell voltages", async (t) => {
    const { bms, simulator } = await jbdRig(t, {
      simulator: { capacityAh: 20, stateOfCharge: 0.5, cells: 4 },
    });
    const info = await bms.readBasicInfo();
    assert.equal(info.remainingAh, 10);
    assert.equal(info.nominalAh, 20);
    assert.equal(info.stateOfChargePercent, 50);
    assert.equal(info.cellCount, 4);
    assert.deepEqual(info.temperaturesC, [25, 26]);
    assert.deepEqual(info.mosfets, { charge: true, discharge: true });
    const cells = await bms.readCellVoltages();
    assert.deepEqual(cells, [3199, 3200, 3201, 3199]);
    assert.equal(info.voltageV, 12.8);
    assert.equal(simulator.stats.requests, 2);
    assert.equal(bms.stats.retries, 0);
  });

  it("refuses a cell list shorter than the cell count basic info gave", async (t) => {
    const { bms, simulator } = await jbdRig(t, { simulator: { cells: 4 } });
    await bms.readBasicInfo();
    // An intact, well-checksummed 0x04 answer that lists three of the four cells.
    const short = jbdFrames.response(
      JBD_CELL_VOLTAGES,
      JBD_STATUS_OK,
      encodeCellVoltages([3200, 3200, 3200]),
    );
    simulator.inject({ kind: "garbage", bytes: short });
    await assert.rejects(
      bms.readCellVoltages(),
      (e: unknown) =>
        e instanceof JbdValueError &&
        /3 cell voltages reported but basic info counts 4 cells/.test(e.message),
    );
    assert.equal((await bms.readCellVoltages()).length, 4);
  });

  it("follows the applied current with JBD's sign flipped to the BAL's", async (t) => {
    const { bms, simulator, clock } = await jbdRig(t, { simulator: { capacityAh: 20, stateOfCharge: 0.5 } });
    simulator.applyCurrent(4); // a 4 A load
    clock.now += HOUR;
    let info = await bms.readBasicInfo();
    assert.equal(info.currentA, 4);
    assert.equal(info.remainingAh, 6);
    simulator.applyCurrent(-2); // a 2 A charger
    clock.now += HOUR;
    info = await bms.readBasicInfo();
    assert.equal(info.currentA, -2);
    assert.equal(info.remainingAh, 8);
  });

  it("switches MOSFETs, which gate the current", async (t) => {
    const { bms, simulator, clock } = await jbdRig(t);
    simulator.applyCurrent(5);
    await bms.setMosfets({ charge: true, discharge: false });
    assert.deepEqual(simulator.state().mosfets, { charge: true, discharge: false });
    clock.now += HOUR;
    const info = await bms.readBasicInfo();
    assert.deepEqual(info.mosfets, { charge: true, discharge: false });
    assert.equal(info.currentA, 0);
    assert.equal(info.remainingAh, 10);
  });

  it("wakes a sleeping BMS by sending its first request again", async (t) => {
    const { bms, simulator, clock } = await jbdRig(t, {
      simulator: { sleepAfterMs: 10_000 },
      bms: { idleMs: 5_000 },
    });
    clock.now += 60_000; // long idle: asleep
    const info = await bms.readBasicInfo();
    assert.equal(info.stateOfChargePercent, 50);
    assert.equal(simulator.stats.slept, 1);
    assert.equal(bms.stats.wakeups, 1);
    assert.equal(bms.stats.retries, 0, "the wake-up resend is not a retry");
    // Awake now: the next request goes straight through.
    clock.now += 1_000;
    await bms.readCellVoltages();
    assert.equal(bms.stats.wakeups, 1);
    assert.equal(simulator.stats.slept, 1);
  });

  it("retries past a dropped answer, a bad checksum and garbage", async (t) => {
    const { bms, simulator } = await jbdRig(t);
    await bms.readBasicInfo(); // first contact (a wake-up attempt that is answered)
    simulator.inject({ kind: "drop" });
    simulator.inject({ kind: "badChecksum" });
    await bms.readBasicInfo();
    assert.equal(bms.stats.retries, 2);
    assert.equal(bms.stats.timeouts, 1);
    assert.equal(bms.stats.checksumErrors, 1);
    simulator.inject({ kind: "garbage" });
    await bms.readCellVoltages();
    simulator.inject({ kind: "garbageBefore" });
    await bms.readCellVoltages();
    assert.ok(bms.stats.garbageBytes >= 12);
    assert.equal(bms.stats.retries, 3);
  });

  it("fails with context once retries run out, and never returns a value", async (t) => {
    const { bms, simulator, path } = await jbdRig(t);
    await bms.readBasicInfo();
    simulator.inject({ kind: "badChecksum" }, 3);
    await assert.rejects(bms.readBasicInfo(), (error: unknown) => {
      assert.ok(error instanceof JbdRequestError);
      assert.match(error.message, new RegExp(`JBD BMS on ${path} register 0x03: failed after 3 attempts`));
      assert.ok(error.cause instanceof JbdChecksumError);
      assert.deepEqual(error.details, { path, register: 3, attempts: 3 });
      return true;
    });
    simulator.inject({ kind: "drop" }, 3);
    await assert.rejects(bms.readCellVoltages(), (error: unknown) => {
      assert.ok(error instanceof JbdRequestError);
      assert.ok(error.cause instanceof JbdTimeoutError);
      return true;
    });
    // And recovers.
    assert.equal((await bms.readCellVoltages()).length, 4);
  });

  it("does not retry a refusal (status 0x80)", async (t) => {
    const { bms, simulator } = await jbdRig(t);
    await bms.readBasicInfo();
    simulator.inject({ kind: "refuse" });
    await assert.rejects(bms.setMosfets({ charge: false, discharge: false }), (error: unknown) => {
      assert.ok(error instanceof JbdRequestError);
      assert.ok(error.cause instanceof JbdStatusError);
      assert.match(error.message, /register 0xe1: failed: JBD BMS refused/);
      return true;
    });
    assert.equal(bms.stats.retries, 0);
    assert.deepEqual(simulator.state().mosfets, { charge: true, discharge: true });
  });
});
