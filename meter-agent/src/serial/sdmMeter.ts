import {
  MeterReadError,
  MeterValueError,
  ModbusCrcError,
  ModbusGarbageError,
  ModbusResponseMismatchError,
  ModbusTimeoutError,
  SerialError,
} from "./errors.js";
import { modbusFrames } from "./modbusFrames.js";
import type { ModbusPort } from "./modbusPort.js";
import { ModbusRtuParser, type ModbusRtuParserOutput } from "./modbusRtuParser.js";
import { sdmRegisters, type SdmModel } from "./sdmRegisters.js";
import { SerialTransport, type Verdict } from "./serialTransport.js";

export interface SdmMeterOptions {
  /** The serial line, opened and closed by the caller (e.g. `serialport`'s `SerialPort`). */
  port: ModbusPort;
  /** Modbus slave address, 1-247. */
  slave: number;
  /** Register map to use. Default `SDM120`. */
  model?: SdmModel;
  /** How long one attempt waits for its complete response. Default 500 ms. */
  timeoutMs?: number;
  /** Further attempts after a timeout, CRC error or unusable answer. Default 2. */
  retries?: number;
  /** Line silence awaited, after a failure or stray bytes, before the next request. Default 50 ms. */
  quietMs?: number;
  /** Clock for the readings' `at`, in Unix milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** One reading. Energies are the meter's cumulative registers in integer watt-hours. */
export interface SdmReading {
  readonly voltageV: number;
  readonly currentA: number;
  /** Positive when importing from the grid, negative when exporting. */
  readonly activePowerW: number;
  readonly importWh: number;
  readonly exportWh: number;
  /** When the energy registers were answered. */
  readonly at: Date;
}

export interface SdmMeterStats {
  requests: number;
  retries: number;
  timeouts: number;
  crcErrors: number;
  garbageBytes: number;
  /** Intact frames addressed from another slave, ignored. */
  foreignFrames: number;
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;

/**
 * Eastron SDM120/SDM630 energy meter over Modbus RTU (function 0x04, float32 registers).
 *
 * One request at a time; each attempt times out, and retryable failures (timeout, CRC, garbage
 * instead of an answer, an answer of the wrong shape) are retried up to `retries` times before a
 * `MeterReadError` naming port, slave and register. A Modbus exception is a definite answer and is
 * not retried (except "busy"). `read()` never returns a value it cannot vouch for: NaN, negative
 * energy or an energy register lower than this meter's previous reading is a `MeterValueError`.
 *
 * RTU frames carry no transaction id, so a response arriving after its request timed out looks like
 * the answer to the next one. After any failure or stray bytes the driver waits for `quietMs` of line
 * silence and clears its framing before asking again; a response later than that is the limit of
 * what RTU can tell apart.
 */
export class SdmMeter {
  readonly stats: SdmMeterStats = {
    requests: 0,
    retries: 0,
    timeouts: 0,
    crcErrors: 0,
    garbageBytes: 0,
    foreignFrames: 0,
  };

  readonly #port: ModbusPort;
  readonly #slave: number;
  readonly #registers: (typeof sdmRegisters)[SdmModel];
  readonly #retries: number;
  readonly #now: () => number;
  readonly #transport: SerialTransport<ModbusRtuParserOutput>;

  #previous: SdmReading | undefined;

  constructor(options: SdmMeterOptions) {
    const { port, slave, model = "SDM120", timeoutMs = 500, retries = 2, quietMs = 50 } = options;
    if (!Number.isInteger(slave) || slave < 1 || slave > 247) throw new RangeError(`invalid slave ${slave}`);
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`invalid retries ${retries}`);
    if (!(timeoutMs > 0) || !(quietMs >= 0)) throw new RangeError("timeoutMs must be > 0, quietMs >= 0");
    this.#port = port;
    this.#slave = slave;
    this.#registers = sdmRegisters[model];
    this.#retries = retries;
    this.#now = options.now ?? Date.now;
    this.#transport = new SerialTransport<ModbusRtuParserOutput>({
      port,
      parser: new ModbusRtuParser(),
      stats: this.stats,
      timeoutMs,
      quietMs,
      timeoutError: (ms, garbageBytes) => new ModbusTimeoutError(ms, garbageBytes),
    });
  }

  /** Reads voltage, current, power and both energy registers, checked as `SdmReading` promises. */
  read(): Promise<SdmReading> {
    return this.#transport.serial(async () => {
      const r = this.#registers;
      const voltageV = (await this.#transact(r.voltage, 2)).readFloatBE(0);
      const currentA = (await this.#transact(r.current, 2)).readFloatBE(0);
      const activePowerW = (await this.#transact(r.activePower, 2)).readFloatBE(0);
      // One request for both energies, so they are a consistent pair.
      const energy = await this.#transact(r.importEnergy, 4);
      const at = new Date(this.#now());
      const reading: SdmReading = {
        voltageV: this.#checkMagnitude(voltageV, r.voltage, "voltage"),
        currentA: this.#checkMagnitude(currentA, r.current, "current"),
        activePowerW: this.#checkFinite(activePowerW, r.activePower, "active power"),
        importWh: this.#energyWh(energy.readFloatBE(0), r.importEnergy, "import energy"),
        exportWh: this.#energyWh(energy.readFloatBE(4), r.exportEnergy, "export energy"),
        at,
      };
      this.#checkMonotonic(reading);
      this.#previous = reading;
      return reading;
    });
  }

  /** Reads active power alone (W, positive importing): one request instead of a whole `read()`. */
  readActivePowerW(): Promise<number> {
    return this.#transport.serial(async () => {
      const register = this.#registers.activePower;
      return this.#checkFinite((await this.#transact(register, 2)).readFloatBE(0), register, "active power");
    });
  }

  /** Reads one float32 input register pair. */
  readFloat32(register: number): Promise<number> {
    return this.#transport.serial(async () => (await this.#transact(register, 2)).readFloatBE(0));
  }

  /** Reads `count` raw input registers (big-endian bytes, 2 per register). */
  readInputRegisters(register: number, count: number): Promise<Buffer> {
    return this.#transport.serial(() => this.#transact(register, count));
  }

  /** Detaches from the port (which the caller closes); a request under way fails. */
  close(): void {
    this.#transport.close(new Error("meter closed"));
  }

  #context(register: number, count: number) {
    return { path: this.#port.path, slave: this.#slave, register, count };
  }

  #where(register: number) {
    return `SDM meter on ${this.#port.path} slave ${this.#slave} register ${hex4(register)}`;
  }

  #transact(register: number, count: number): Promise<Buffer> {
    if (!Number.isInteger(register) || register < 0 || register > 0xffff)
      throw new RangeError(`invalid register ${register}`);
    if (!Number.isInteger(count) || count < 1 || count > 125) throw new RangeError(`invalid count ${count}`);
    return this.#transport.request({
      request: modbusFrames.readInputRegistersRequest(this.#slave, register, count),
      retries: this.#retries,
      judge: (item) => this.#judge(item, count),
      closedError: () => new MeterReadError(`${this.#where(register)}: meter closed`),
      failure: (error, attempts, retryable) => {
        const message = error instanceof Error ? error.message : String(error);
        const outcome = retryable ? `failed after ${attempts} attempts` : "failed";
        return new MeterReadError(`${this.#where(register)}: ${outcome}: ${message}`, {
          details: { ...this.#context(register, count), attempts },
          cause: error,
        });
      },
    });
  }

  /** What a parsed item means to a request for `count` registers of this slave. */
  #judge(item: ModbusRtuParserOutput, count: number): Verdict {
    if (item instanceof ModbusGarbageError) return { garbage: item.bytes.length };
    if (item instanceof ModbusCrcError) {
      this.stats.crcErrors++;
      return { corrupt: item };
    }
    // Other slaves on the bus answer their own masters; their frames are not failures of ours.
    if (item.slave !== this.#slave) {
      this.stats.foreignFrames++;
      return undefined;
    }
    if (item instanceof SerialError) return { fail: item };
    if (item.data.length !== count * 2)
      return { fail: new ModbusResponseMismatchError(count * 2, item.data.length) };
    return { answer: item.data };
  }

  #checkFinite(value: number, register: number, what: string): number {
    if (!Number.isFinite(value))
      throw new MeterValueError(`${this.#where(register)}: ${what} is ${value}`, {
        details: { ...this.#context(register, 2), value },
      });
    return value;
  }

  #checkMagnitude(value: number, register: number, what: string): number {
    if (this.#checkFinite(value, register, what) < 0)
      throw new MeterValueError(`${this.#where(register)}: ${what} is negative (${value})`, {
        details: { ...this.#context(register, 2), value },
      });
    return value;
  }

  /**
   * kWh register to integer Wh, rounded to the nearest watt-hour. Rounding is monotonic, so a
   * register that never decreases still never decreases in Wh, and because the cumulative register
   * (not each increment) is rounded, interval differences carry no accumulated error. Float32 has a
   * 24-bit mantissa: above 16,777 kWh its steps exceed 1 Wh, a limit of the meter's format.
   */
  #energyWh(kWh: number, register: number, what: string): number {
    if (this.#checkFinite(kWh, register, what) < 0)
      throw new MeterValueError(`${this.#where(register)}: ${what} is negative (${kWh} kWh)`, {
        details: { ...this.#context(register, 2), kWh },
      });
    const wh = Math.round(kWh * 1000);
    return wh === 0 ? 0 : wh; // no -0
  }

  #checkMonotonic(reading: SdmReading): void {
    const previous = this.#previous;
    if (!previous) return;
    for (const [key, register] of [
      ["importWh", this.#registers.importEnergy],
      ["exportWh", this.#registers.exportEnergy],
    ] as const) {
      if (reading[key] < previous[key])
        throw new MeterValueError(
          `${this.#where(register)}: ${key} went backwards from ${previous[key]} to ${reading[key]}`,
          { details: { ...this.#context(register, 2), previousWh: previous[key], wh: reading[key] } },
        );
    }
  }
}
