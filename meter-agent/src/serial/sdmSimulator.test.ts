import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";

import { ModbusCrcError, ModbusExceptionError, SerialError } from "./errors.js";
import { homeProfile } from "./homeProfile.js";
import { withModbusCrc } from "./modbusCrc.js";
import { modbusFrames } from "./modbusFrames.js";
import type { ModbusPort } from "./modbusPort.js";
import { ModbusRtuParser, type ModbusRtuParserOutput } from "./modbusRtuParser.js";
import { SdmSimulator } from "./sdmSimulator.js";

const HOUR = 3_600_000;
const MIDNIGHT = Date.UTC(2025, 5, 21);

/** One end of an in-memory line; writes arrive at the peer on a later turn, as on a real port. */
class MemoryPort extends EventEmitter implements ModbusPort {
  readonly path = "memory";
  peer: MemoryPort | undefined;
  write(data: Buffer, callback: (error: Error | null | undefined) => void): boolean {
    setImmediate(() => {
      this.peer?.emit("data", Buffer.from(data));
      callback(null);
    });
    return true;
  }
}

function line() {
  const host = new MemoryPort();
  const device = new MemoryPort();
  host.peer = device;
  device.peer = host;
  const parser = new ModbusRtuParser();
  const received: ModbusRtuParserOutput[] = [];
  host.on("data", (chunk: Buffer) => parser.write(chunk));
  parser.on("data", (item: ModbusRtuParserOutput) => received.push(item));
  /**
   * Sends raw bytes and returns what came back: as soon as `expect` items arrived (up to five seconds,
   * so a busy machine does not fail the test), or after 50 ms when silence is expected.
   */
  const ask = async (request: Buffer, expect = 1, { keepBuffered = false } = {}) => {
    received.length = 0;
    // As the drivers do before every request: a stale partial frame (say the tail of one that
    // failed its CRC) must not swallow the next answer.
    if (!keepBuffered) parser.reset();
    host.write(request, () => undefined);
    const deadline = performance.now() + (expect === 0 ? 50 : 5000);
    while ((expect === 0 || received.length < expect) && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    return [...received];
  };
  return { device, ask };
}

const readRequest = (register: number, count = 2, slave = 1) =>
  modbusFrames.readInputRegistersRequest(slave, register, count);

describe("SdmSimulator", () => {
  it("answers 0x04 reads with float32 registers from its state", async () => {
    const { device, ask } = line();
    let now = MIDNIGHT;
    const sim = new SdmSimulator({
      port: device,
      clock: () => now,
      profile: () => ({ solarW: 0, loadW: 1200 }),
      importWh: 2_500_000,
      exportWh: 125,
    });
    const [power] = await ask(readRequest(0x000c));
    assert.ok(power && !(power instanceof SerialError));
    assert.equal(power.data.readFloatBE(0), 1200);
    const [energy] = await ask(readRequest(0x0048, 4));
    assert.ok(energy && !(energy instanceof SerialError));
    assert.equal(energy.data.readFloatBE(0), 2500);
    assert.equal(energy.data.readFloatBE(4), 0.125);
    const [voltage] = await ask(readRequest(0x0000));
    assert.ok(voltage && !(voltage instanceof SerialError));
    assert.ok(Math.abs(voltage.data.readFloatBE(0) - 230) < 3);
    now += HOUR;
    assert.equal(sim.state().importWh, 2_501_200);
    sim.close();
  });

  it("keeps voltage near 230 V with small variation", () => {
    let now = MIDNIGHT;
    const sim = new SdmSimulator({ port: new MemoryPort(), clock: () => now });
    const volts = Array.from({ length: 60 }, () => {
      now += 60_000;
      return sim.state().voltageV;
    });
    assert.ok(Math.min(...volts) > 227 && Math.max(...volts) < 233);
    assert.ok(Math.max(...volts) - Math.min(...volts) > 1, "it does vary");
  });

  it("answers exception 0x02 for unknown registers and split values, 0x03 for bad counts, 0x01 for other functions", async () => {
    const { device, ask } = line();
    const sim = new SdmSimulator({ port: device });
    const codeOf = async (request: Buffer) => {
      const [answer] = await ask(request);
      assert.ok(
        answer instanceof ModbusExceptionError,
        answer instanceof Error ? answer.message : "no exception",
      );
      return [answer.functionCode, answer.exceptionCode];
    };
    assert.deepEqual(await codeOf(readRequest(0x0100)), [0x04, 0x02]);
    assert.deepEqual(await codeOf(readRequest(0x0001)), [0x04, 0x02]);
    assert.deepEqual(await codeOf(readRequest(0x0000, 1)), [0x04, 0x02]);
    assert.deepEqual(await codeOf(readRequest(0x0000, 4)), [0x04, 0x02], "0x0002 is not an SDM120 register");
    assert.deepEqual(await codeOf(readRequest(0x0000, 0)), [0x04, 0x03]);
    assert.deepEqual(await codeOf(readRequest(0x0000, 82)), [0x04, 0x03]);
    const holding = Buffer.from(withModbusCrc(Uint8Array.of(1, 0x03, 0, 0, 0, 2)));
    assert.deepEqual(await codeOf(holding), [0x03, 0x01]);
    assert.equal(sim.stats.requests, 7);
    sim.close();
  });

  it("stays silent for other slave addresses, broadcasts and corrupted requests", async () => {
    const { device, ask } = line();
    const sim = new SdmSimulator({ port: device, slave: 3 });
    assert.deepEqual(await ask(readRequest(0x0000, 2, 1), 0), []);
    assert.deepEqual(await ask(readRequest(0x0000, 2, 0), 0), []);
    const corrupt = readRequest(0x0000, 2, 3);
    corrupt[7]! ^= 1;
    assert.deepEqual(await ask(corrupt, 0), []);
    assert.equal((await ask(Buffer.concat([Buffer.of(0xff, 0x00), readRequest(0x0000, 2, 3)]))).length, 1);
    assert.deepEqual(sim.stats, { requests: 1, answered: 1, ignored: 2, faults: 0 });
    sim.close();
  });

  it("integrates import and export over a day of the home profile", () => {
    let now = MIDNIGHT;
    const profile = homeProfile();
    const sim = new SdmSimulator({ port: new MemoryPort(), clock: () => now, profile });
    // Independent reference: midpoint rule at one-second steps.
    let importWh = 0;
    let exportWh = 0;
    for (let t = MIDNIGHT; t < MIDNIGHT + 24 * HOUR; t += 1000) {
      const { solarW, loadW } = profile(t + 500);
      const wh = ((loadW - solarW) * 1000) / HOUR;
      if (wh > 0) importWh += wh;
      else exportWh -= wh;
    }
    for (let hour = 1; hour <= 24; hour++) {
      now = MIDNIGHT + hour * HOUR;
      sim.state();
    }
    const state = sim.state();
    assert.ok(Math.abs(state.importWh - importWh) < 2, `import ${state.importWh} vs ${importWh}`);
    assert.ok(Math.abs(state.exportWh - exportWh) < 2, `export ${state.exportWh} vs ${exportWh}`);
    assert.ok(importWh > 5000 && exportWh > 15000, "a sunny day both imports and exports");
  });

  it("runs accelerated time", () => {
    let now = 0;
    const sim = new SdmSimulator({
      port: new MemoryPort(),
      clock: () => now,
      startAt: MIDNIGHT,
      speed: 3600,
      profile: () => ({ solarW: 1000, loadW: 0 }),
    });
    now = 1000; // one real second is one simulated hour
    const state = sim.state();
    assert.equal(state.at.getTime(), MIDNIGHT + HOUR);
    assert.ok(Math.abs(state.exportWh - 1000) < 1e-9);
    assert.equal(state.activePowerW, -1000);
  });

  it("applies injected faults to the next answers only", async () => {
    const { device, ask } = line();
    // A fixed clock keeps the answers' bytes, and so this test, the same on every run.
    const sim = new SdmSimulator({ port: device, clock: () => MIDNIGHT });
    sim.inject({ kind: "drop" });
    sim.inject({ kind: "corruptCrc" });
    sim.inject({ kind: "wrongSlave", slave: 9 });
    sim.inject({ kind: "garbage" });
    assert.deepEqual(await ask(readRequest(0x0000), 0), []);
    assert.ok((await ask(readRequest(0x0000)))[0] instanceof ModbusCrcError);
    const [foreign] = await ask(readRequest(0x0000));
    assert.ok(foreign && !(foreign instanceof SerialError) && foreign.slave === 9);
    assert.deepEqual(await ask(readRequest(0x0000), 0), [], "garbage alone waits in the parser");
    const intact = (await ask(readRequest(0x0000), 2, { keepBuffered: true })).find(
      (item) => !(item instanceof SerialError),
    );
    assert.ok(intact && !(intact instanceof SerialError) && intact.slave === 1);
    assert.equal(sim.stats.faults, 4);
    sim.close();
  });
});
