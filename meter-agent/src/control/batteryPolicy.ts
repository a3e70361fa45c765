import type { BatteryStatus } from "../bal/battery.js";

/** The parts of the meter state (commands/meterState.ts) the policy acts on. */
export interface BatteryPolicyState {
  isOn: boolean;
  sharingPower: boolean;
  reducingPowerDemand: boolean;
  batteryThreshold: number | null;
  dataIntervalSeconds: number;
}

export type BatteryPolicyBattery = Pick<
  BatteryStatus,
  "voltage" | "current" | "capacity" | "stateOfCharge" | "maxChargeCurrent" | "maxDischargeCurrent"
>;

export interface BatteryDecision {
  /** Amperes to set: positive discharges, negative charges. */
  current: number;
  reason: "off" | "share" | "reduce-demand" | "store-surplus" | "idle";
}

/**
 * The battery current for the next data interval (seed 000 §2.1.2, Manage_energy_distribution):
 *
 * - share_power_on: discharge the charge above the threshold into the microgrid, at most what the
 *   battery can deliver and at most what keeps it at the threshold by the end of the interval;
 *   never at or below the threshold.
 * - reduce_power_demand_on: discharge to cover the home's import, as far as the battery can; this
 *   may go below the sharing threshold, which is a reserve for neighbours, not for the home itself.
 * - Both: the larger current, since a sharing battery's output reaches the home's own load first.
 * - Otherwise a home exporting surplus stores it, and the battery rests.
 *
 * `netPowerW` is what the grid meter measures (positive importing), with the battery behind the
 * meter: its present current already lowers the import, so that output is added back to get the
 * home's own demand. Without that, each interval would undo the previous one's correction.
 * Currents are truncated to whole milliamperes towards zero, so they never exceed a limit.
 */
export function batteryPolicy(
  state: BatteryPolicyState,
  battery: BatteryPolicyBattery,
  netPowerW: number,
): BatteryDecision {
  const { voltage, capacity, stateOfCharge: soc } = battery;
  if (!state.isOn) return { current: 0, reason: "off" };
  if (!(voltage > 0) || !Number.isFinite(netPowerW)) return { current: 0, reason: "idle" };

  const hours = state.dataIntervalSeconds / 3600;
  // Amperes that move `ah` ampere-hours in one data interval.
  const overInterval = (ah: number) => Math.max(0, ah) / hours;
  const homeW = netPowerW + battery.current * voltage;
  const dischargeLimit = Math.min(battery.maxDischargeCurrent, overInterval(soc * capacity));

  const demand =
    state.reducingPowerDemand && homeW > 0 ? milliamps(Math.min(homeW / voltage, dischargeLimit)) : 0;
  const threshold = state.batteryThreshold;
  const share =
    state.sharingPower && threshold !== null && soc > threshold
      ? milliamps(Math.min(battery.maxDischargeCurrent, overInterval((soc - threshold) * capacity)))
      : 0;

  if (share > 0 && share >= demand) return { current: share, reason: "share" };
  if (demand > 0) return { current: demand, reason: "reduce-demand" };
  const charge =
    homeW < 0
      ? milliamps(Math.min(-homeW / voltage, battery.maxChargeCurrent, overInterval((1 - soc) * capacity)))
      : 0;
  if (charge > 0) return { current: -charge, reason: "store-surplus" };
  return { current: 0, reason: "idle" };
}

function milliamps(amperes: number): number {
  return Math.trunc(amperes * 1000) / 1000;
}
