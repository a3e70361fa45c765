import type { AgentStatus } from "./agentResults.js";
import type { BillingRates } from "./controllerSettings.js";
import type { ForwardedCommand } from "./meterOutbox.js";

/** The settings every meter of the microgrid should hold. */
export interface WantedSettings {
  demandReduction: boolean;
  dataIntervalSeconds: number;
  billingRates: readonly BillingRates[];
}

/**
 * The commands that bring a meter's reported settings back to the controller's: a meter that lost
 * or never got one (its store restored from a backup, replaced, reset by its owner) is told again.
 * Sharing is not here: Manage_energy_distribution decides it from the batteries.
 */
export function settingsToResend(
  status: Pick<AgentStatus, "reducingPowerDemand" | "dataIntervalSeconds" | "billingRates">,
  wanted: WantedSettings,
): ForwardedCommand[] {
  const commands: ForwardedCommand[] = [];
  if (status.reducingPowerDemand !== wanted.demandReduction) {
    commands.push({
      command: wanted.demandReduction ? "reduce_power_demand_on" : "reduce_power_demand_off",
      params: {},
    });
  }
  if (status.dataIntervalSeconds !== wanted.dataIntervalSeconds)
    commands.push({ command: "set_data_interval", params: { seconds: wanted.dataIntervalSeconds } });
  for (const rates of wanted.billingRates) {
    if (!status.billingRates.some((held) => sameRates(held, rates)))
      commands.push({ command: "put_billing_rates", params: rates });
  }
  return commands;
}

function sameRates(a: BillingRates, b: BillingRates): boolean {
  return (
    a.month === b.month &&
    a.peakRate === b.peakRate &&
    a.offPeakRate === b.offPeakRate &&
    a.peakStartHour === b.peakStartHour &&
    a.peakEndHour === b.peakEndHour
  );
}
