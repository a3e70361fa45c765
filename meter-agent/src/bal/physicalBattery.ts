import { Mutex } from "../common/mutex.js";
import type { Battery, BatteryStatus, Clock } from "./battery.js";
import type { BatteryDriver, DriverReading } from "./batteryDriver.js";
import { checkCurrent } from "./checkCurrent.js";
import { BatteryUnavailableError, TopologyConfigError } from "./errors.js";

/** Rated currents; a BMS such as JBD's reports capacity but not these, so they come from config. */
export interface PhysicalBatteryLimits {
  readonly maxChargeCurrent: number;
  readonly maxDischargeCurrent: number;
}

/** A battery backed by a device driver (simulated, JBD over UART, …). */
export class PhysicalBattery implements Battery {
  readonly #mutex = new Mutex();

  constructor(
    readonly name: string,
    private readonly driver: BatteryDriver,
    private readonly limits: PhysicalBatteryLimits,
    private readonly clock: Clock = Date.now,
  ) {
    const problems = (["maxChargeCurrent", "maxDischargeCurrent"] as const)
      .filter((key) => !(limits[key] >= 0 && Number.isFinite(limits[key])))
      .map((key) => `battery "${name}": ${key} must be a non-negative number of amperes, got ${limits[key]}`);
    if (problems.length > 0) throw new TopologyConfigError(problems);
  }

  getStatus(): Promise<BatteryStatus> {
    return this.#mutex.run(() => this.#read());
  }

  setCurrent(current: number): Promise<void> {
    return this.#mutex.run(async () => {
      // Checked against a fresh reading: an empty cell cannot discharge whatever its rating.
      checkCurrent(this.name, current, await this.#read());
      try {
        await this.driver.setCurrent(current);
      } catch (cause) {
        throw new BatteryUnavailableError(this.name, `set current ${current} A`, cause);
      }
    });
  }

  async #read(): Promise<BatteryStatus> {
    const start = this.clock();
    let reading: DriverReading;
    try {
      reading = await this.driver.read();
    } catch (cause) {
      throw new BatteryUnavailableError(this.name, "read status", cause);
    }
    const end = this.clock();
    const { capacity } = reading;
    const stateOfCharge = capacity > 0 ? Math.min(1, Math.max(0, reading.charge / capacity)) : 0;
    const values = {
      capacity,
      stateOfCharge,
      maxChargeCurrent: stateOfCharge < 1 ? this.limits.maxChargeCurrent : 0,
      maxDischargeCurrent: stateOfCharge > 0 ? this.limits.maxDischargeCurrent : 0,
    };
    return {
      ...values,
      voltage: reading.voltage,
      current: reading.current,
      expected: {
        capacity,
        stateOfCharge,
        maxChargeCurrent: this.limits.maxChargeCurrent,
        maxDischargeCurrent: this.limits.maxDischargeCurrent,
      },
      timestamp: [start, end],
    };
  }
}
