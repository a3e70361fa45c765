import { SerialError } from "./errors.js";
import {
  JbdChecksumError,
  JbdGarbageError,
  JbdRequestError,
  JbdStatusError,
  JbdTimeoutError,
  JbdValueError,
} from "./jbdErrors.js";
import {
  JBD_BASIC_INFO,
  JBD_CELL_VOLTAGES,
  JBD_MOSFET_CONTROL,
  JBD_STATUS_OK,
  decodeBasicInfo,
  decodeCellVoltages,
  jbdFrames,
  type JbdBasicInfo,
  type JbdMosfets,
} from "./jbdFrames.js";
import { JbdResponseParser, type JbdResponseParserOutput } from "./jbdParser.js";
import type { ModbusPort } from "./modbusPort.js";
import { SerialTransport, type Verdict } from "./serialTransport.js";

/** The byte pipe is the same as Modbus's: anything with write and data events. */
export type JbdPort = ModbusPort;

export interface JbdBmsOptions {
  /** The serial line (9,600 baud 8N1), opened and closed by the caller. */
  port: JbdPort;
  /** How long one attempt waits for its complete response. Default 500 ms. */
  timeoutMs?: number;
  /** Further attempts after a timeout, checksum error or unusable answer. Default 2. */
  retries?: number;
  /** Line silence awaited, after a failure or stray bytes, before the next request. Default 50 ms. */
  quietMs?: number;
  /**
   * A BMS idle this long may be asleep: its first request is sent, answered or not within
   * `wakeMs`, and then sent again, without counting as a retry. Default 5,000 ms.
   */
  idleMs?: number;
  /** How long to wait for an answer to the wake-up request. Default 100 ms. */
  wakeMs?: number;
  /** Monotonic clock in ms for idle detection. Default `performance.now`. */
  now?: () => number;
}

export interface JbdBmsStats {
  requests: number;
  retries: number;
  wakeups: number;
  timeouts: number;
  checksumErrors: number;
  garbageBytes: number;
  /** Intact answers for another register, ignored. */
  foreignFrames: number;
}

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;

/**
 * A JBD BMS (SP04S020 and similar) over its UART: basic info (0x03), cell voltages (0x04) and
 * MOSFET control (0xE1).
 *
 * One request at a time; each attempt times out, and retryable failures (timeout, checksum,
 * garbage instead of an answer, an answer of the wrong shape) are retried up to `retries` times
 * before a `JbdRequestError` naming port and register. Status 0x80 is a definite refusal and is not
 * retried. A BMS that has been idle may be asleep and drop the first request that wakes it, so after
 * `idleMs` without an answer the first request is sent, given `wakeMs`, and sent again.
 *
 * Current is reported in the BAL's sign: positive while discharging (JBD's own sign is the
 * opposite). Values that cannot be true (RSOC above 100 %, remaining above nominal capacity by more
 * than rounding, an empty cell list, a cell list whose length differs from the cell count the last
 * 0x03 answer gave) are a `JbdValueError`, never returned.
 *
 * JBD answers carry the register but no transaction id, so as with Modbus a late answer after a
 * timeout could pose as the next one; after any failure the driver awaits `quietMs` of silence and
 * clears its framing before asking again.
 */
export class JbdBms {
  readonly stats: JbdBmsStats = {
    requests: 0,
    retries: 0,
    wakeups: 0,
    timeouts: 0,
    checksumErrors: 0,
    garbageBytes: 0,
    foreignFrames: 0,
  };

  readonly #port: JbdPort;
  readonly #retries: number;
  readonly #idleMs: number;
  readonly #wakeMs: number;
  readonly #now: () => number;
  readonly #parser = new JbdResponseParser();
  readonly #transport: SerialTransport<JbdResponseParserOutput>;

  #lastAnswerAt = -Infinity;
  /** The cell count of the latest basic info, to check 0x04 answers against. */
  #cellCount: number | undefined;

  constructor(options: JbdBmsOptions) {
    const { port, timeoutMs = 500, retries = 2, quietMs = 50, idleMs = 5000, wakeMs = 100 } = options;
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`invalid retries ${retries}`);
    if (!(timeoutMs > 0) || !(quietMs >= 0) || !(wakeMs > 0) || !(idleMs >= 0))
      throw new RangeError("timeoutMs and wakeMs must be > 0, quietMs and idleMs >= 0");
    this.#port = port;
    this.#retries = retries;
    this.#idleMs = idleMs;
    this.#wakeMs = wakeMs;
    this.#now = options.now ?? (() => performance.now());
    this.#transport = new SerialTransport<JbdResponseParserOutput>({
      port,
      parser: this.#parser,
      stats: this.stats,
      timeoutMs,
      quietMs,
      timeoutError: (ms, garbageBytes) => {
        // Bytes the parser still holds (noise, half a frame) were seen but never framed.
        const held = this.#parser.buffered;
        this.stats.garbageBytes += held;
        return new JbdTimeoutError(ms, garbageBytes + held);
      },
    });
  }

  /** Reads register 0x03, checked; current positive = discharging. */
  readBasicInfo(): Promise<JbdBasicInfo> {
    return this.#transport.serial(async () => {
      const data = await this.#transact(JBD_BASIC_INFO, jbdFrames.readRequest(JBD_BASIC_INFO));
      const info = this.#decode(JBD_BASIC_INFO, () => decodeBasicInfo(data));
      this.#check(info.stateOfChargePercent <= 100, JBD_BASIC_INFO, `RSOC is ${info.stateOfChargePercent} %`);
      this.#check(
        info.remainingAh <= info.nominalAh * 1.05 + 0.01,
        JBD_BASIC_INFO,
        `remaining capacity ${info.remainingAh} Ah exceeds nominal ${info.nominalAh} Ah`,
      );
      this.#cellCount = info.cellCount;
      return info;
    });
  }

  /** Reads register 0x04: cell voltages in mV, first cell first. */
  readCellVoltages(): Promise<number[]> {
    return this.#transport.serial(async () => {
      const data = await this.#transact(JBD_CELL_VOLTAGES, jbdFrames.readRequest(JBD_CELL_VOLTAGES));
      const cells = this.#decode(JBD_CELL_VOLTAGES, () => decodeCellVoltages(data));
      this.#check(cells.length > 0, JBD_CELL_VOLTAGES, "no cells reported");
      // A truncated-but-valid list would hide a cell from the caller's over/under-voltage checks.
      this.#check(
        this.#cellCount === undefined || cells.length === this.#cellCount,
        JBD_CELL_VOLTAGES,
        `${cells.length} cell voltages reported but basic info counts ${this.#cellCount} cells`,
      );
      return cells;
    });
  }

  /** Writes register 0xE1: which FETs conduct. Resolves once the BMS acknowledges. */
  setMosfets(fets: JbdMosfets): Promise<void> {
    return this.#transport.serial(async () => {
      await this.#transact(JBD_MOSFET_CONTROL, jbdFrames.mosfetRequest(fets));
    });
  }

  /** Detaches from the port (which the caller closes); a request under way fails. */
  close(): void {
    this.#transport.close(new Error("BMS closed"));
  }

  #where(register: number) {
    return `JBD BMS on ${this.#port.path} register ${hex2(register)}`;
  }

  #decode<T>(register: number, decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new JbdRequestError(`${this.#where(register)}: ${message}`, {
        details: { path: this.#port.path, register },
        cause: error,
      });
    }
  }

  #check(ok: boolean, register: number, problem: string): void {
    if (!ok)
      throw new JbdValueError(`${this.#where(register)}: ${problem}`, {
        details: { path: this.#port.path, register },
      });
  }

  async #transact(register: number, request: Buffer): Promise<Buffer> {
    const judge = (item: JbdResponseParserOutput) => this.#judge(item, register);
    const closedError = () => new JbdRequestError(`${this.#where(register)}: BMS closed`);
    if (this.#now() - this.#lastAnswerAt > this.#idleMs) {
      // Possibly asleep: the first request may only wake it. An answer is used if it comes.
      if (this.#transport.closed) throw closedError();
      this.stats.wakeups++;
      try {
        const data = await this.#transport.send(request, judge, this.#wakeMs);
        this.#lastAnswerAt = this.#now();
        this.#transport.unsettle(); // a late duplicate may follow
        return data;
      } catch (error) {
        if (error instanceof JbdStatusError) throw this.#failure(register, error, 1, false);
      }
    }
    const data = await this.#transport.request({
      request,
      retries: this.#retries,
      judge,
      closedError,
      failure: (error, attempts, retryable) => this.#failure(register, error, attempts, retryable),
    });
    this.#lastAnswerAt = this.#now();
    return data;
  }

  #failure(register: number, error: unknown, attempts: number, retryable: boolean): JbdRequestError {
    const message = error instanceof Error ? error.message : String(error);
    const outcome = retryable ? `failed after ${attempts} attempts` : "failed";
    return new JbdRequestError(`${this.#where(register)}: ${outcome}: ${message}`, {
      details: { path: this.#port.path, register, attempts },
      cause: error,
    });
  }

  /** What a parsed item means to a request for `register`. */
  #judge(item: JbdResponseParserOutput, register: number): Verdict {
    if (item instanceof JbdGarbageError) return { garbage: item.bytes.length };
    if (item instanceof JbdChecksumError) {
      this.stats.checksumErrors++;
      return { corrupt: item };
    }
    if (item instanceof SerialError) return { fail: item };
    if (item.register !== register) {
      this.stats.foreignFrames++;
      return undefined;
    }
    if (item.status !== JBD_STATUS_OK) return { fail: new JbdStatusError(register, item.status) };
    return { answer: item.data };
  }
}
