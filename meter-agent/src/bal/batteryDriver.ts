/**
 * What a physical battery needs from a device driver. A driver speaks the device's protocol; the
 * `PhysicalBattery` around it adds limits, validation, timestamps and the BAL status shape.
 *
 * The JBD BMS driver (seed 004, "Example Physical Battery Driver: JBD BMS") fits this as follows:
 * `read()` reads the Basic Info register (0x03) once — total voltage, current, residual and full
 * capacity — and converts JBD's sign (positive while charging) to the BAL's (positive while
 * discharging); `setCurrent()` writes the FET control register (0xE1): discharge FET on and charge
 * FET off for a positive target, the reverse for a negative one, both off for zero. The BMS has no
 * current regulator, so the measured current is whatever the load or charger draws.
 */
export interface DriverReading {
  /** Pack voltage (volts). */
  readonly voltage: number;
  /** Measured current, positive = discharging (amperes). */
  readonly current: number;
  /** Stored charge (ampere-hours). */
  readonly charge: number;
  /** Full-charge capacity (ampere-hours). */
  readonly capacity: number;
}

export interface BatteryDriver {
  /** One atomic read of the device's measurements. */
  read(): Promise<DriverReading>;
  /** Drives the device toward `current` (positive = discharge); limits are already checked. */
  setCurrent(current: number): Promise<void>;
}
