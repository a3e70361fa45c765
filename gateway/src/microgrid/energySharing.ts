/** A meter with a battery, as Manage_energy_distribution sees it. */
export interface BatteryMeterView {
  meter: string;
  /** State of charge it keeps for itself (0–1). */
  threshold: number;
  /** Its last reported state of charge (0–1); null when unknown or too old to act on. */
  stateOfCharge: number | null;
  /** Told to share (or about to be: a command is on its way). */
  sharing: boolean;
}

export interface SharingDecision {
  /** Meters to send `share_power_on`, each with the threshold it must not discharge below. */
  on: { meter: string; batteryThreshold: number }[];
  /** Meters to send `share_power_off`. */
  off: string[];
}

/**
 * Seed 000 §2.1.2, Manage_energy_distribution: while at least one battery is below its threshold,
 * every battery above its own shares (those not sharing yet are told to); once none is below, every
 * sharing battery stops. Meters whose charge is unknown neither ask for power nor give it, but are
 * stopped with the rest. A meter already in the wanted state gets no command.
 */
export function decideSharing(meters: readonly BatteryMeterView[]): SharingDecision {
  const known = meters.filter((m) => m.stateOfCharge !== null);
  const needed = known.some((m) => m.stateOfCharge! < m.threshold);
  if (!needed) return { on: [], off: meters.filter((m) => m.sharing).map((m) => m.meter) };
  return {
    on: known
      .filter((m) => !m.sharing && m.stateOfCharge! > m.threshold)
      .map((m) => ({ meter: m.meter, batteryThreshold: m.threshold })),
    off: [],
  };
}
