import type { Clock } from "./battery.js";
import { PhysicalBattery } from "./physicalBattery.js";
import { SimulatedDriver } from "./simulatedDriver.js";

export interface SimulatedBatterySpec {
  readonly capacity: number;
  readonly stateOfCharge: number;
  readonly maxChargeCurrent: number;
  readonly maxDischargeCurrent: number;
  /** Volts; defaults to a 16-cell LiFePO4 pack's nominal 51.2 V. */
  readonly voltage?: number;
}

/**
 * A physical battery over a simulated cell; the driver is returned too, to drift its charge the
 * way real cells do.
 */
export function simulatedBattery(
  name: string,
  spec: SimulatedBatterySpec,
  clock: Clock = Date.now,
): { battery: PhysicalBattery; driver: SimulatedDriver } {
  const driver = new SimulatedDriver({
    capacity: spec.capacity,
    stateOfCharge: spec.stateOfCharge,
    voltage: spec.voltage ?? 51.2,
    clock,
  });
  return { battery: new PhysicalBattery(name, driver, spec, clock), driver };
}
