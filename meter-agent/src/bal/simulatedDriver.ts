import type { Clock } from "./battery.js";
import type { BatteryDriver, DriverReading } from "./batteryDriver.js";

export interface SimulatedDriverOptions {
  /** Full-charge capacity (ampere-hours). */
  readonly capacity: number;
  /** Initial stored charge as a fraction of capacity. */
  readonly stateOfCharge: number;
  /** Terminal voltage (volts), constant: the simulation models charge, not cell chemistry. */
  readonly voltage: number;
  readonly clock: Clock;
}

const msPerHour = 3_600_000;

/**
 * A battery cell in software: charge follows the applied current over the injected clock, exactly
 * (piecewise), and current stops when the cell is empty or full, as a BMS cut-off would.
 */
export class SimulatedDriver implements BatteryDriver {
  readonly #capacity: number;
  readonly #voltage: number;
  readonly #clock: Clock;
  #charge: number;
  #current = 0;
  #last: number;

  constructor(options: SimulatedDriverOptions) {
    if (!(options.capacity > 0)) throw new RangeError(`capacity must be positive, got ${options.capacity}`);
    if (!(options.stateOfCharge >= 0 && options.stateOfCharge <= 1)) {
      throw new RangeError(`stateOfCharge must lie in [0, 1], got ${options.stateOfCharge}`);
    }
    this.#capacity = options.capacity;
    this.#voltage = options.voltage;
    this.#clock = options.clock;
    this.#charge = options.capacity * options.stateOfCharge;
    this.#last = options.clock();
  }

  read(): Promise<DriverReading> {
    this.#advance();
    return Promise.resolve({
      voltage: this.#voltage,
      current: this.#current,
      charge: this.#charge,
      capacity: this.#capacity,
    });
  }

  setCurrent(current: number): Promise<void> {
    this.#advance();
    this.#current = current;
    this.#cutOff();
    return Promise.resolve();
  }

  /**
   * Changes the stored charge without any current: self-discharge, ageing, a recalibrated gauge.
   * Virtual batteries must cope with such drift (seed 004, "Partitioned Batteries").
   */
  adjustCharge(deltaAh: number): void {
    this.#advance();
    this.#charge = Math.min(this.#capacity, Math.max(0, this.#charge + deltaAh));
    this.#cutOff();
  }

  #advance(): void {
    const now = this.#clock();
    const hours = Math.max(0, now - this.#last) / msPerHour;
    this.#last = Math.max(this.#last, now);
    if (hours === 0 || this.#current === 0) return;
    const after = this.#charge - this.#current * hours;
    this.#charge = Math.min(this.#capacity, Math.max(0, after));
    this.#cutOff();
  }

  #cutOff(): void {
    if ((this.#current > 0 && this.#charge <= 0) || (this.#current < 0 && this.#charge >= this.#capacity)) {
      this.#current = 0;
    }
  }
}
