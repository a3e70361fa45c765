import { setTimeout as sleep } from "node:timers/promises";

import { seededRandom } from "../common/seededRandom.js";
import { homeProfile, type HomeProfile } from "./homeProfile.js";
import { hasValidModbusCrc } from "./modbusCrc.js";
import { READ_INPUT_REGISTERS, modbusFrames } from "./modbusFrames.js";
import type { ModbusPort } from "./modbusPort.js";
import { sdmRegisters, type SdmModel } from "./sdmRegisters.js";

export interface SdmSimulatorOptions {
  /** The device end of the line, opened and closed by the caller. */
  port: ModbusPort;
  /** Address it answers to. Default 1. */
  slave?: number;
  /** Register map it serves. Default `SDM120`. */
  model?: SdmModel;
  /** Solar and load over simulated time. Default `homeProfile()`. */
  profile?: HomeProfile;
  /** Real clock in Unix ms. Default `Date.now`; tests pass one they move by hand. */
  clock?: () => number;
  /** Simulated Unix ms at the moment of construction. Default `clock()`. */
  startAt?: number;
  /** Simulated ms per real ms, e.g. 360 to run an hour in ten seconds. Default 1. */
  speed?: number;
  /** Cumulative registers at start. Default 0. */
  importWh?: number;
  exportWh?: number;
  /** Seed of the voltage noise, so runs repeat. Default 1. */
  seed?: number;
}

/** A misbehaviour applied to the next answer(s), for tests. */
export type SdmFault =
  | { kind: "drop" }
  | { kind: "corruptCrc" }
  /** Noise instead of the answer. */
  | { kind: "garbage"; bytes?: Uint8Array }
  /** Noise, then the intact answer. */
  | { kind: "garbageBefore"; bytes?: Uint8Array }
  /** Answer late; the device stays busy meanwhile, as a real one would. */
  | { kind: "delay"; ms: number }
  /** Answer under another slave address. */
  | { kind: "wrongSlave"; slave?: number }
  /** Answer one byte per write, so the reader gets it in pieces. */
  | { kind: "fragment"; gapMs?: number };

/** The device's state at one simulated moment. */
export interface SdmSimulatorState {
  readonly at: Date;
  readonly solarW: number;
  readonly loadW: number;
  /** Load minus solar: positive imports, negative exports. */
  readonly activePowerW: number;
  readonly voltageV: number;
  readonly currentA: number;
  /** Exact (float64) cumulative energies; the registers round them to float32 kWh. */
  readonly importWh: number;
  readonly exportWh: number;
}

interface Request {
  readonly slave: number;
  readonly functionCode: number;
  readonly register: number;
  readonly count: number;
}

/** Line noise: none of these bytes can start a response frame. */
const DEFAULT_GARBAGE = Uint8Array.of(0xff, 0x00, 0xfe, 0xff, 0x00, 0xf8);
/** Integration step: short against the profile's hours, so trapezoids are close to exact. */
const STEP_MS = 60_000;
const HOUR_MS = 3_600_000;
const FREQUENCY_REGISTER = 0x0046;

/**
 * Length of the request frame at `pos`, or "need" / "garbage". Requests, unlike responses, have a
 * fixed 8 bytes except for the multiple writes, whose byte count sits at offset 6.
 */
function requestLengthAt(buf: Buffer, pos: number): number | "need" | "garbage" {
  const avail = buf.length - pos;
  if (avail < 2) return "need";
  if (buf[pos]! > 247) return "garbage";
  const fn = buf[pos + 1]!;
  if (fn >= 0x01 && fn <= 0x06) return 8;
  if (fn !== 0x0f && fn !== 0x10) return "garbage";
  if (avail < 7) return "need";
  return 9 + buf[pos + 6]!;
}

/**
 * An Eastron SDM meter on the device end of a serial line: answers "read input registers" (0x04)
 * with float32 values from a simulated home, exception 0x02 for registers it does not have, 0x03
 * for a count out of range, 0x01 for other functions, and stays silent for other slave addresses
 * and broadcasts. Requests are answered one at a time, like the real device.
 *
 * Energy registers integrate load − solar over simulated time (import when positive, export when
 * negative), advanced whenever the device is asked or inspected.
 */
export class SdmSimulator {
  readonly stats = { requests: 0, answered: 0, ignored: 0, faults: 0 };

  readonly #port: ModbusPort;
  readonly #slave: number;
  readonly #registers: (typeof sdmRegisters)[SdmModel];
  readonly #profile: HomeProfile;
  readonly #clock: () => number;
  readonly #speed: number;
  readonly #realStart: number;
  readonly #simStart: number;
  readonly #random: () => number;
  readonly #faults: SdmFault[] = [];
  readonly #overrides = new Map<number, number>();
  readonly #abort = new AbortController();

  #buffer: Buffer = Buffer.alloc(0);
  #work: Promise<void> = Promise.resolve();
  #integratedTo: number;
  #importWh: number;
  #exportWh: number;
  #closed = false;

  constructor(options: SdmSimulatorOptions) {
    this.#port = options.port;
    this.#slave = options.slave ?? 1;
    this.#registers = sdmRegisters[options.model ?? "SDM120"];
    this.#profile = options.profile ?? homeProfile();
    this.#clock = options.clock ?? Date.now;
    this.#speed = options.speed ?? 1;
    this.#realStart = this.#clock();
    this.#simStart = options.startAt ?? this.#realStart;
    this.#integratedTo = this.#simStart;
    this.#importWh = options.importWh ?? 0;
    this.#exportWh = options.exportWh ?? 0;
    this.#random = seededRandom(options.seed ?? 1);
    this.#port.on("data", this.#onData);
  }

  /** Applies `fault` to each of the next `times` answers. */
  inject(fault: SdmFault, times = 1): void {
    for (let i = 0; i < times; i++) this.#faults.push(fault);
  }

  /** Serves `value` at `register` instead of the simulated one (`undefined` restores it). */
  override(register: number, value: number | undefined): void {
    if (value === undefined) this.#overrides.delete(register);
    else this.#overrides.set(register, value);
  }

  /** Sets the cumulative registers, e.g. to simulate a meter swap or a rollback. */
  setEnergy(energy: { importWh?: number; exportWh?: number }): void {
    this.#advance();
    this.#importWh = energy.importWh ?? this.#importWh;
    this.#exportWh = energy.exportWh ?? this.#exportWh;
  }

  /** The state now, energy integrated up to this moment. */
  state(): SdmSimulatorState {
    const at = this.#advance();
    const { solarW, loadW } = this.#profile(at);
    const activePowerW = loadW - solarW;
    const hourAngle = (2 * Math.PI * (at % HOUR_MS)) / HOUR_MS;
    const voltageV = 230 + 2 * Math.sin(hourAngle) + (this.#random() - 0.5);
    return {
      at: new Date(at),
      solarW,
      loadW,
      activePowerW,
      voltageV,
      currentA: Math.abs(activePowerW) / voltageV,
      importWh: this.#importWh,
      exportWh: this.#exportWh,
    };
  }

  /** Stops answering and detaches from the port (which the caller closes). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.off("data", this.#onData);
    this.#abort.abort();
  }

  #onData = (chunk: Buffer): void => {
    const buf = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let pos = 0;
    for (;;) {
      const length = requestLengthAt(buf, pos);
      if (length === "need" || (typeof length === "number" && buf.length - pos < length)) break;
      const frame = buf.subarray(pos, pos + (length === "garbage" ? 0 : length));
      if (length === "garbage" || !hasValidModbusCrc(frame)) {
        pos++;
        continue;
      }
      const request: Request = {
        slave: frame[0]!,
        functionCode: frame[1]!,
        register: frame.readUInt16BE(2),
        count: frame.readUInt16BE(4),
      };
      this.#work = this.#work.then(() => this.#answer(request)).catch(() => undefined);
      pos += length;
    }
    this.#buffer = Buffer.from(buf.subarray(pos));
  };

  async #answer(request: Request): Promise<void> {
    if (this.#closed) return;
    if (request.slave !== this.#slave) {
      this.stats.ignored++;
      return;
    }
    this.stats.requests++;
    const fault = this.#faults.shift();
    if (fault) this.stats.faults++;
    const slave = fault?.kind === "wrongSlave" ? (fault.slave ?? (this.#slave % 247) + 1) : this.#slave;
    let response = this.#respond(slave, request);
    switch (fault?.kind) {
      case undefined:
      case "wrongSlave":
        break;
      case "drop":
        return;
      case "corruptCrc":
        response = Buffer.from(response);
        response[response.length - 1]! ^= 0x5a;
        break;
      case "garbage":
        response = Buffer.from(fault.bytes ?? DEFAULT_GARBAGE);
        break;
      case "garbageBefore":
        response = Buffer.concat([fault.bytes ?? DEFAULT_GARBAGE, response]);
        break;
      case "delay":
        await sleep(fault.ms, undefined, { signal: this.#abort.signal });
        break;
      case "fragment":
        for (const byte of response) {
          await this.#write(Buffer.of(byte));
          await sleep(fault.gapMs ?? 2, undefined, { signal: this.#abort.signal });
        }
        this.stats.answered++;
        return;
    }
    await this.#write(response);
    this.stats.answered++;
  }

  #respond(slave: number, { functionCode, register, count }: Request): Buffer {
    if (functionCode !== READ_INPUT_REGISTERS)
      return modbusFrames.exceptionResponse(slave, functionCode, 0x01);
    // The SDM manuals allow at most 80 registers (40 values) per request.
    if (count < 1 || count > 80) return modbusFrames.exceptionResponse(slave, functionCode, 0x03);
    const values = this.#values();
    const data = Buffer.alloc(count * 2);
    // Every value spans two registers; the meter refuses reads that split one.
    if (register % 2 !== 0 || count % 2 !== 0)
      return modbusFrames.exceptionResponse(slave, functionCode, 0x02);
    for (let i = 0; i < count; i += 2) {
      const value = values.get(register + i);
      if (value === undefined) return modbusFrames.exceptionResponse(slave, functionCode, 0x02);
      data.writeFloatBE(value, i * 2);
    }
    return modbusFrames.readInputRegistersResponse(slave, data);
  }

  #values(): Map<number, number> {
    const s = this.state();
    const r = this.#registers;
    const values = new Map<number, number>([
      [0x0000, s.voltageV],
      // Phase 1 carries the whole home on the SDM630 too.
      [0x0006, s.currentA],
      [0x000c, s.activePowerW],
      [r.current, s.currentA],
      [r.activePower, s.activePowerW],
      [FREQUENCY_REGISTER, 50 + (this.#random() - 0.5) * 0.04],
      [r.importEnergy, s.importWh / 1000],
      [r.exportEnergy, s.exportWh / 1000],
    ]);
    for (const [register, value] of this.#overrides) values.set(register, value);
    return values;
  }

  #write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return resolve();
      this.#port.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Integrates energy up to the current simulated time and returns that time. */
  #advance(): number {
    const to = this.#simStart + (this.#clock() - this.#realStart) * this.#speed;
    for (let a = this.#integratedTo; a < to;) {
      const b = Math.min(to, a + STEP_MS);
      this.#addEnergy(this.#netW(a), this.#netW(b), (b - a) / HOUR_MS);
      a = b;
    }
    this.#integratedTo = Math.max(this.#integratedTo, to);
    return this.#integratedTo;
  }

  #netW(atMs: number): number {
    const { solarW, loadW } = this.#profile(atMs);
    return loadW - solarW;
  }

  /** Trapezoid from p0 to p1 over `hours`, split where it crosses zero so import and export stay apart. */
  #addEnergy(p0: number, p1: number, hours: number): void {
    const add = (wh: number) => {
      if (wh > 0) this.#importWh += wh;
      else this.#exportWh -= wh;
    };
    if (p0 >= 0 === p1 >= 0) return add(((p0 + p1) / 2) * hours);
    const f = p0 / (p0 - p1);
    add((p0 / 2) * f * hours);
    add((p1 / 2) * (1 - f) * hours);
  }
}
