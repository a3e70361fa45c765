import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import {
  MeterReadError,
  MeterValueError,
  ModbusCrcError,
  ModbusExceptionError,
  ModbusTimeoutError,
} from "./errors.js";
import { homeProfile, type HomePower } from "./homeProfile.js";
import { openSerialLine } from "./openSerialLine.js";
import { SdmMeter, type SdmMeterOptions } from "./sdmMeter.js";
import { SdmSimulator, type SdmFault, type SdmSimulatorOptions } from "./sdmSimulator.js";

const HOUR = 3_600_000;
const MIDNIGHT = Date.UTC(2025, 5, 21);

/**
 * The real driver on the real `serialport` binding, talking through a socat pty pair to the
 * simulator on its own real port. The simulator's clock is moved by hand so energies are exact.
 */
async function rig(
  t: TestContext,
  options: { meter?: Partial<SdmMeterOptions>; simulator?: Partial<SdmSimulatorOptions> } = {},
) {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const line = await openSerialLine();
  cleanups.push(() => line.close());
  const { host: hostPort, device: devicePort } = line;
  const clock = { now: MIDNIGHT };
  const simulator = new SdmSimulator({ port: devicePort, clock: () => clock.now, ...options.simulator });
  cleanups.push(() => simulator.close());
  const meter = new SdmMeter({
    port: hostPort,
    slave: 1,
    timeoutMs: 200,
    retries: 2,
    quietMs: 20,
    now: () => clock.now,
    ...options.meter,
  });
  cleanups.push(() => meter.close());
  return { meter, simulator, clock, path: line.path };
}

describe("SdmMeter against SdmSimulator on a pty", { timeout: 15_000 }, () => {
  it("reads voltage, current, power and energies as integer Wh", async (t) => {
    const { meter, simulator } = await rig(t, {
      simulator: { profile: () => ({ solarW: 0, loadW: 1500 }), importWh: 1_234_567, exportWh: 89_012 },
    });
    const reading = await meter.read();
    assert.equal(reading.importWh, 1_234_567);
    assert.equal(reading.exportWh, 89_012);
    assert.equal(reading.activePowerW, 1500);
    assert.ok(reading.voltageV > 227 && reading.voltageV < 233, `voltage ${reading.voltageV}`);
    assert.ok(Math.abs(reading.currentA - 1500 / reading.voltageV) < 0.05, `current ${reading.currentA}`);
    assert.equal(reading.at.getTime(), MIDNIGHT);
    assert.ok(Number.isInteger(reading.importWh) && Number.isInteger(reading.exportWh));
    assert.equal(meter.stats.retries, 0);
    assert.equal(simulator.stats.requests, 4, "voltage, current, power, then both energies at once");
  });

  it("follows the energy the profile's net power integrates to", async (t) => {
    let power: HomePower = { solarW: 0, loadW: 1500 };
    const { meter, simulator, clock } = await rig(t, { simulator: { profile: () => power } });
    const start = await meter.read();
    clock.now += HOUR;
    const afterLoad = await meter.read();
    assert.equal(afterLoad.importWh - start.importWh, 1500);
    assert.equal(afterLoad.exportWh - start.exportWh, 0);
    simulator.state(); // integrate up to now before the sun comes out
    power = { solarW: 4000, loadW: 500 };
    clock.now += HOUR / 2;
    const afterSun = await meter.read();
    assert.equal(afterSun.activePowerW, -3500);
    assert.equal(afterSun.importWh, afterLoad.importWh);
    assert.equal(afterSun.exportWh - afterLoad.exportWh, 1750);
  });

  it("reads a day of the home profile: exporting at noon, importing at night, never backwards", async (t) => {
    const { meter, simulator, clock } = await rig(t, { simulator: { profile: homeProfile() } });
    const readings = [];
    for (let hour = 0; hour <= 24; hour += 3) {
      clock.now = MIDNIGHT + hour * HOUR;
      readings.push(await meter.read());
    }
    assert.ok(readings[4]!.activePowerW < 0, "exporting at noon");
    assert.ok(readings[0]!.activePowerW > 0, "importing at midnight");
    for (let i = 1; i < readings.length; i++) {
      assert.ok(readings[i]!.importWh >= readings[i - 1]!.importWh);
      assert.ok(readings[i]!.exportWh >= readings[i - 1]!.exportWh);
    }
    const state = simulator.state();
    assert.equal(readings.at(-1)!.importWh, Math.round(state.importWh));
    assert.equal(readings.at(-1)!.exportWh, Math.round(state.exportWh));
  });

  it("reads an SDM630's system totals", async (t) => {
    const { meter } = await rig(t, {
      meter: { model: "SDM630" },
      simulator: { model: "SDM630", profile: () => ({ solarW: 6000, loadW: 1000 }) },
    });
    const reading = await meter.read();
    assert.equal(reading.activePowerW, -5000);
    assert.ok(Math.abs(reading.currentA - 5000 / reading.voltageV) < 0.05);
  });

  const recoverable: [string, SdmFault][] = [
    ["a dropped response", { kind: "drop" }],
    ["a corrupted CRC", { kind: "corruptCrc" }],
    ["garbage instead of the response", { kind: "garbage" }],
    ["a response from another slave address", { kind: "wrongSlave" }],
  ];
  for (const [what, fault] of recoverable) {
    it(`retries after ${what}`, async (t) => {
      const { meter, simulator } = await rig(t, {
        simulator: { profile: () => ({ solarW: 0, loadW: 2300 }) },
      });
      simulator.inject(fault);
      const reading = await meter.read();
      assert.equal(meter.stats.retries, 1);
      assert.equal(reading.activePowerW, 2300);
      // A late answer to the abandoned attempt must not be taken for the next question.
      assert.ok(Math.abs(reading.currentA - 2300 / reading.voltageV) < 0.05, `current ${reading.currentA}`);
      const again = await meter.read();
      assert.ok(Math.abs(again.currentA - 2300 / again.voltageV) < 0.05, `current ${again.currentA}`);
      assert.ok(again.voltageV > 227 && again.voltageV < 233, `voltage ${again.voltageV}`);
    });
  }

  it("does not take a late answer to an abandoned attempt for the next question", async (t) => {
    const { meter, simulator } = await rig(t, { simulator: { profile: () => ({ solarW: 0, loadW: 2300 }) } });
    // The voltage request is answered after its timeout, and the retry's answer trails it by
    // 10 ms: without waiting for the line to settle, that answer (230 V) would be read as the current.
    simulator.inject({ kind: "delay", ms: 300 });
    simulator.inject({ kind: "delay", ms: 10 });
    const reading = await meter.read();
    assert.equal(meter.stats.retries, 1);
    assert.equal(reading.activePowerW, 2300);
    assert.ok(Math.abs(reading.currentA - 2300 / reading.voltageV) < 0.05, `current ${reading.currentA}`);
  });

  const survivable: [string, SdmFault][] = [
    ["garbage before the response", { kind: "garbageBefore" }],
    ["a response that arrives a byte at a time", { kind: "fragment", gapMs: 3 }],
  ];
  for (const [what, fault] of survivable) {
    it(`reads through ${what} without a retry`, async (t) => {
      const { meter, simulator } = await rig(t);
      simulator.inject(fault, 4);
      const reading = await meter.read();
      assert.equal(meter.stats.retries, 0);
      assert.ok(reading.voltageV > 227 && reading.voltageV < 233);
      assert.equal(simulator.stats.faults, 4);
    });
  }

  it("gives a clear error naming port, slave and register when retries run out", async (t) => {
    const { meter, simulator, path } = await rig(t);
    simulator.inject({ kind: "drop" }, 3);
    const started = performance.now();
    const error = await meter.read().then(
      () => assert.fail("read should fail"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof MeterReadError, String(error));
    assert.ok(error.message.includes(path), error.message);
    assert.match(
      error.message,
      /slave 1 register 0x0000: failed after 3 attempts: no response within 200 ms/,
    );
    assert.ok(error.cause instanceof ModbusTimeoutError);
    assert.deepEqual(error.details, { path, slave: 1, register: 0, count: 2, attempts: 3 });
    assert.equal(simulator.stats.requests, 3);
    assert.ok(performance.now() - started < 2000, "bounded by attempts × timeout");
    // The line recovers once the device answers again.
    assert.ok((await meter.read()).voltageV > 0);
  });

  it("reports the CRC error when every attempt is corrupted", async (t) => {
    const { meter, simulator } = await rig(t, { meter: { retries: 1 } });
    simulator.inject({ kind: "corruptCrc" }, 2);
    const error = await meter.readFloat32(0x0000).catch((e: unknown) => e);
    assert.ok(error instanceof MeterReadError);
    assert.ok(error.cause instanceof ModbusCrcError);
    assert.match(error.message, /failed after 2 attempts: Modbus frame failed its CRC check/);
  });

  it("times out, without an answer, when the meter's address is wrong", async (t) => {
    const { meter, simulator } = await rig(t, { meter: { slave: 5, retries: 1 } });
    const error = await meter.read().catch((e: unknown) => e);
    assert.ok(error instanceof MeterReadError);
    assert.match(error.message, /slave 5 .*failed after 2 attempts: no response/);
    assert.equal(simulator.stats.requests, 0);
    assert.equal(simulator.stats.ignored, 2);
  });

  it("does not retry a Modbus exception and says what the device refused", async (t) => {
    const { meter, simulator } = await rig(t);
    const error = await meter.readFloat32(0x0100).catch((e: unknown) => e);
    assert.ok(error instanceof MeterReadError);
    assert.ok(error.cause instanceof ModbusExceptionError);
    assert.equal(error.cause.exceptionCode, 0x02);
    assert.match(error.message, /register 0x0100: failed: Modbus exception 0x02 \(illegal data address\)/);
    assert.equal(error.details["attempts"], 1);
    assert.equal(simulator.stats.requests, 1);
  });

  it("never returns NaN or negative energy", async (t) => {
    const { meter, simulator } = await rig(t);
    simulator.override(0x0000, NaN);
    await assert.rejects(
      meter.read(),
      (e) => e instanceof MeterValueError && /voltage is NaN/.test(e.message),
    );
    simulator.override(0x0000, undefined);
    simulator.override(0x004a, -0.5);
    await assert.rejects(
      meter.read(),
      (e) => e instanceof MeterValueError && /register 0x004a: export energy is negative/.test(e.message),
    );
  });

  it("rejects an energy register that goes backwards, and keeps its last good reading", async (t) => {
    const { meter, simulator, clock } = await rig(t, {
      simulator: { profile: () => ({ solarW: 0, loadW: 1000 }), importWh: 50_000 },
    });
    assert.equal((await meter.read()).importWh, 50_000);
    simulator.setEnergy({ importWh: 49_000 });
    await assert.rejects(
      meter.read(),
      (e) => e instanceof MeterValueError && /importWh went backwards from 50000 to 49000/.test(e.message),
    );
    simulator.setEnergy({ importWh: 50_000 });
    clock.now += HOUR;
    assert.equal((await meter.read()).importWh, 51_000);
  });

  it("serialises concurrent reads into one request at a time", async (t) => {
    const { meter, simulator } = await rig(t, { simulator: { profile: () => ({ solarW: 0, loadW: 800 }) } });
    const readings = await Promise.all([meter.read(), meter.read(), meter.readFloat32(0x000c)]);
    assert.equal(readings[0].activePowerW, 800);
    assert.equal(readings[1].activePowerW, 800);
    assert.equal(readings[2], 800);
    assert.equal(simulator.stats.requests, 9);
    assert.equal(meter.stats.retries, 0);
  });
});
