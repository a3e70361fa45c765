import type { JbdBms } from "../serial/jbdBms.js";
import type { JbdMosfets } from "../serial/jbdFrames.js";
import type { BatteryDriver, DriverReading } from "./batteryDriver.js";

/**
 * A physical battery behind a JBD BMS (seed 004, "Example Physical Battery Driver: JBD BMS").
 *
 * `read()` is one read of the Basic Info register (0x03), so voltage, current and charge are one
 * consistent snapshot: pack voltage, current (already in the BAL's sign, positive = discharging),
 * remaining capacity as the charge and nominal capacity as the capacity, in Ah.
 *
 * `setCurrent()` LIMITATION: a JBD BMS has no current regulator and cannot set a current. It can
 * only switch its MOSFETs (register 0xE1), so the target's sign picks the direction allowed and the
 * magnitude is ignored: positive → discharge FET on, charge FET off; negative → charge FET on,
 * discharge FET off; zero → both off. The current that then flows is whatever the load or charger
 * draws; a caller sees it in the next `read()`. The BMS's own protections may still switch a FET off.
 */
export class JbdBatteryDriver implements BatteryDriver {
  constructor(private readonly bms: JbdBms) {}

  async read(): Promise<DriverReading> {
    const info = await this.bms.readBasicInfo();
    return {
      voltage: info.voltageV,
      current: info.currentA,
      charge: info.remainingAh,
      capacity: info.nominalAh,
    };
  }

  setCurrent(current: number): Promise<void> {
    if (Number.isNaN(current)) return Promise.reject(new RangeError("current is NaN"));
    return this.bms.setMosfets(jbdMosfetsFor(current));
  }
}

/** The FETs that let a current of this sign flow and block the other direction. */
export function jbdMosfetsFor(current: number): JbdMosfets {
  if (current > 0) return { charge: false, discharge: true };
  if (current < 0) return { charge: true, discharge: false };
  return { charge: false, discharge: false };
}
