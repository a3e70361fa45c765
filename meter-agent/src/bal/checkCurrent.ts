import type { BatteryValues } from "./battery.js";
import { BatteryRangeError } from "./errors.js";

/**
 * Relative slack on limits. Virtual batteries split a request into shares computed in floating
 * point; a share equal to a member's limit must not fail on its last bit.
 */
const slack = 1e-9;

export function withinLimit(magnitude: number, limit: number): boolean {
  return magnitude <= limit + slack * Math.max(1, limit);
}

/** Throws a `BatteryRangeError` unless `current` lies within the battery's present limits. */
export function checkCurrent(
  battery: string,
  current: number,
  limits: Pick<BatteryValues, "maxChargeCurrent" | "maxDischargeCurrent">,
): void {
  if (!Number.isFinite(current)) throw new BatteryRangeError(battery, current, 0, "discharge");
  if (current > 0 && !withinLimit(current, limits.maxDischargeCurrent)) {
    throw new BatteryRangeError(battery, current, limits.maxDischargeCurrent, "discharge");
  }
  if (current < 0 && !withinLimit(-current, limits.maxChargeCurrent)) {
    throw new BatteryRangeError(battery, current, limits.maxChargeCurrent, "charge");
  }
}
