/**
 * The Battery Abstraction Layer's one interface (seed 004 Task 2, "Battery Abstraction Layer API"):
 * physical and virtual batteries are indistinguishable to the software that uses them.
 *
 * Units and signs follow ARCHITECTURE.md §4: volts, amperes, ampere-hours, state of charge as a
 * fraction in [0, 1], and current positive when discharging, negative when charging.
 */

/** Milliseconds since the Unix epoch; injected so that simulations and tests control time. */
export type Clock = () => number;

/** The values a battery reports twice: as they are now, and as expected when operating optimally. */
export interface BatteryValues {
  /** Maximum charge (ampere-hours). */
  readonly capacity: number;
  /** Stored charge as a fraction of `capacity`. */
  readonly stateOfCharge: number;
  /** Largest charging current the battery accepts now (amperes, ≥ 0). */
  readonly maxChargeCurrent: number;
  /** Largest discharging current the battery delivers now (amperes, ≥ 0). */
  readonly maxDischargeCurrent: number;
}

/**
 * One atomic snapshot. The top-level values are the current ones; `expected` holds what the battery
 * would offer if every constituent were online and balanced (seed 004: "the BAL reports two sets of
 * values for a virtual battery: the expected values and the current values"). For a physical
 * battery the two differ only where the cell is empty or full.
 */
export interface BatteryStatus extends BatteryValues {
  readonly voltage: number;
  /** Positive = discharging, negative = charging (amperes). */
  readonly current: number;
  readonly expected: BatteryValues;
  /**
   * When the values were measured, as an interval: a virtual battery combines readings taken at
   * different moments, and the interval spans all of them (milliseconds since the epoch).
   */
  readonly timestamp: readonly [start: number, end: number];
}

export interface Battery {
  readonly name: string;
  /** All values at once, so that no caller combines a voltage and a current from different moments. */
  getStatus(): Promise<BatteryStatus>;
  /**
   * Sets the target current: positive discharges, negative charges, zero stops. A request beyond
   * `maxDischargeCurrent` or `maxChargeCurrent` is rejected with a `BatteryRangeError` and changes
   * nothing.
   */
  setCurrent(current: number): Promise<void>;
}
