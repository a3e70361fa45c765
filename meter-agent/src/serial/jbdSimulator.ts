import { setTimeout as sleep } from "node:timers/promises";

import {
  JBD_BASIC_INFO,
  JBD_CELL_VOLTAGES,
  JBD_MOSFET_CONTROL,
  JBD_STATUS_ERROR,
  JBD_STATUS_OK,
  encodeBasicInfo,
  encodeCellVoltages,
  jbdFrames,
  mosfetsFromMask,
  type JbdMosfets,
} from "./jbdFrames.js";
import type { JbdPort } from "./jbdBms.js";
import { JbdRequestParser, type JbdRequestFrame, type JbdRequestParserOutput } from "./jbdParser.js";

export interface JbdSimulatorOptions {
  /** The device end of the line, opened and closed by the caller. */
  port: JbdPort;
  /** Clock in ms (charge integration and sleep). Default `Date.now`; tests pass one moved by hand. */
  clock?: () => number;
  /** Nominal capacity (Ah). Default 20. */
  capacityAh?: number;
  /** Initial state of charge, 0-1. Default 0.5. */
  stateOfCharge?: number;
  /** Series cells. Default 4. */
  cells?: number;
  /** NTC temperatures (°C). Default [25, 26]. */
  temperaturesC?: readonly number[];
  /** Charge cycles reported. Default 12. */
  cycles?: number;
  /** Idle this long, the BMS sleeps and ignores the request that wakes it. Default Infinity (never). */
  sleepAfterMs?: number;
  /** Initial FET state. Default both on. */
  mosfets?: JbdMosfets;
}

/** A misbehaviour applied to the next answer(s), for tests. */
export type JbdFault =
  | { kind: "drop" }
  | { kind: "badChecksum" }
  /** Noise instead of the answer. */
  | { kind: "garbage"; bytes?: Uint8Array }
  /** Noise, then the intact answer. */
  | { kind: "garbageBefore"; bytes?: Uint8Array }
  /** Status 0x80 instead of the answer. */
  | { kind: "refuse" }
  /** Answer late. */
  | { kind: "delay"; ms: number };

/** Line noise that starts no frame (no 0xDD). */
const DEFAULT_GARBAGE = Uint8Array.of(0x00, 0xff, 0x13, 0x77, 0xa5, 0x00);
const HOUR_MS = 3_600_000;

/**
 * A JBD BMS on the device end of a serial line. It answers 0x03 (basic info), 0x04 (cell voltages)
 * and 0xE1 (MOSFET control); other registers get status 0x80.
 *
 * The pack's charge follows the current the outside world applies (`applyCurrent`, in the BAL's
 * sign: positive discharges), integrated exactly over the injected clock, but only while the FET
 * for that direction conducts, and never beyond empty or full (the BMS cuts off there). Cell
 * voltages follow a linear LiFePO4-like curve of the state of charge (3.0-3.4 V per cell).
 *
 * With `sleepAfterMs`, a request arriving after that long without one is swallowed (it only wakes
 * the BMS), as a real JBD board asleep on its UART does.
 */
export class JbdSimulator {
  readonly stats = { requests: 0, answered: 0, slept: 0, faults: 0 };

  readonly #port: JbdPort;
  readonly #clock: () => number;
  readonly #capacityAh: number;
  readonly #cells: number;
  readonly #temperaturesC: readonly number[];
  readonly #cycles: number;
  readonly #sleepAfterMs: number;
  readonly #parser = new JbdRequestParser();
  readonly #faults: JbdFault[] = [];
  readonly #abort = new AbortController();

  #chargeAh: number;
  #appliedA = 0;
  #mosfets: JbdMosfets;
  #last: number;
  #lastRequestAt: number;
  #work: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: JbdSimulatorOptions) {
    this.#port = options.port;
    this.#clock = options.clock ?? Date.now;
    this.#capacityAh = options.capacityAh ?? 20;
    const soc = options.stateOfCharge ?? 0.5;
    if (!(soc >= 0 && soc <= 1)) throw new RangeError(`stateOfCharge must lie in [0, 1], got ${soc}`);
    this.#chargeAh = soc * this.#capacityAh;
    this.#cells = options.cells ?? 4;
    this.#temperaturesC = options.temperaturesC ?? [25, 26];
    this.#cycles = options.cycles ?? 12;
    this.#sleepAfterMs = options.sleepAfterMs ?? Infinity;
    this.#mosfets = options.mosfets ?? { charge: true, discharge: true };
    this.#last = this.#clock();
    this.#lastRequestAt = this.#last;
    this.#parser.on("data", this.#onRequest);
    this.#port.on("data", this.#onData);
  }

  /** Applies `fault` to each of the next `times` answers. */
  inject(fault: JbdFault, times = 1): void {
    for (let i = 0; i < times; i++) this.#faults.push(fault);
  }

  /** The current a load (positive) or charger (negative) would drive through the pack, in A. */
  applyCurrent(currentA: number): void {
    this.#advance();
    this.#appliedA = currentA;
  }

  /** The state now, charge integrated up to this moment. */
  state(): { chargeAh: number; stateOfCharge: number; currentA: number; mosfets: JbdMosfets } {
    this.#advance();
    return {
      chargeAh: this.#chargeAh,
      stateOfCharge: this.#chargeAh / this.#capacityAh,
      currentA: this.#flowingA(),
      mosfets: this.#mosfets,
    };
  }

  /** Stops answering and detaches from the port (which the caller closes). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.off("data", this.#onData);
    this.#parser.off("data", this.#onRequest);
    this.#abort.abort();
  }

  #onData = (chunk: Buffer): void => {
    this.#parser.write(chunk);
  };

  #onRequest = (item: JbdRequestParserOutput): void => {
    if (item instanceof Error) return; // noise on the line: a real BMS ignores it
    this.#work = this.#work.then(() => this.#answer(item)).catch(() => undefined);
  };

  /** Current actually flowing: what is applied, if the FET for its direction conducts and the pack allows. */
  #flowingA(): number {
    const a = this.#appliedA;
    if (a > 0 && (!this.#mosfets.discharge || this.#chargeAh <= 0)) return 0;
    if (a < 0 && (!this.#mosfets.charge || this.#chargeAh >= this.#capacityAh)) return 0;
    return a;
  }

  #advance(): void {
    const now = this.#clock();
    const hours = Math.max(0, now - this.#last) / HOUR_MS;
    this.#last = Math.max(this.#last, now);
    const a = this.#flowingA();
    if (hours === 0 || a === 0) return;
    this.#chargeAh = Math.min(this.#capacityAh, Math.max(0, this.#chargeAh - a * hours));
  }

  async #answer(request: JbdRequestFrame): Promise<void> {
    if (this.#closed) return;
    const now = this.#clock();
    const asleep = now - this.#lastRequestAt > this.#sleepAfterMs;
    this.#lastRequestAt = Math.max(this.#lastRequestAt, now);
    if (asleep) {
      this.stats.slept++;
      return;
    }
    this.stats.requests++;
    const fault = this.#faults.shift();
    if (fault) this.stats.faults++;
    // A refused request changes nothing.
    let response =
      fault?.kind === "refuse"
        ? jbdFrames.response(request.register, JBD_STATUS_ERROR)
        : this.#respond(request);
    switch (fault?.kind) {
      case undefined:
        break;
      case "drop":
        return;
      case "badChecksum":
        response = Buffer.from(response);
        response[response.length - 2]! ^= 0x5a;
        break;
      case "garbage":
        response = Buffer.from(fault.bytes ?? DEFAULT_GARBAGE);
        break;
      case "garbageBefore":
        response = Buffer.concat([fault.bytes ?? DEFAULT_GARBAGE, response]);
        break;
      case "refuse":
        break;
      case "delay":
        await sleep(fault.ms, undefined, { signal: this.#abort.signal });
        break;
    }
    await this.#write(response);
    this.stats.answered++;
  }

  #respond({ mode, register, data }: JbdRequestFrame): Buffer {
    const refuse = () => jbdFrames.response(register, JBD_STATUS_ERROR);
    if (mode === "write") {
      if (register !== JBD_MOSFET_CONTROL || data.length !== 2 || data[0] !== 0 || data[1]! > 3)
        return refuse();
      this.#advance();
      this.#mosfets = mosfetsFromMask(data[1]!);
      return jbdFrames.response(register, JBD_STATUS_OK);
    }
    if (data.length !== 0) return refuse();
    if (register === JBD_BASIC_INFO) return jbdFrames.response(register, JBD_STATUS_OK, this.#basicInfo());
    if (register === JBD_CELL_VOLTAGES)
      return jbdFrames.response(register, JBD_STATUS_OK, encodeCellVoltages(this.#cellMv()));
    return refuse();
  }

  #cellMv(): number[] {
    const soc = this.state().stateOfCharge;
    // A few mV of spread between cells, as a real pack shows.
    return Array.from({ length: this.#cells }, (_, i) => Math.round(3000 + 400 * soc + (i % 3) - 1));
  }

  #basicInfo(): Buffer {
    const { chargeAh, stateOfCharge, currentA, mosfets } = this.state();
    const cellMv = this.#cellMv();
    return encodeBasicInfo({
      voltageV: cellMv.reduce((a, b) => a + b, 0) / 1000,
      currentA,
      remainingAh: chargeAh,
      nominalAh: this.#capacityAh,
      cycles: this.#cycles,
      productionDate: { year: 2024, month: 3, day: 14 },
      balanceStatus: 0,
      protectionStatus: 0,
      softwareVersion: 0x10,
      stateOfChargePercent: Math.round(stateOfCharge * 100),
      mosfets,
      cellCount: this.#cells,
      temperaturesC: this.#temperaturesC,
    });
  }

  #write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return resolve();
      this.#port.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }
}
