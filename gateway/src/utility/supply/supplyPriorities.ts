import type { ControllerLocation, SupplyStatus } from "./supplyStatus.js";

/**
 * The share of its normal grid feed each kind of microgrid gets under each status: emergency
 * facilities always keep theirs, subsidised apartments lose half in CRITICAL and all in EMPTY,
 * houses lose theirs from CRITICAL on (seed 000 §2.2.3). Halves and wholes are exact in binary, so
 * plain numbers carry them to the controllers' `set_grid_supply`.
 */
const GRID_SHARES: Readonly<Record<ControllerLocation, Readonly<Record<SupplyStatus, number>>>> = {
  emergency: { NORMAL: 1, LOW: 1, CRITICAL: 1, EMPTY: 1 },
  apartment: { NORMAL: 1, LOW: 1, CRITICAL: 0.5, EMPTY: 0 },
  residential: { NORMAL: 1, LOW: 1, CRITICAL: 0, EMPTY: 0 },
};

export function gridShare(location: ControllerLocation, status: SupplyStatus): number {
  return GRID_SHARES[location][status];
}

/** Every status but NORMAL asks the microgrids to reduce demand (seed 000 §2.2.3). */
export function demandReductionFor(status: SupplyStatus): boolean {
  return status !== "NORMAL";
}

/**
 * What a controller runs with before the utility has told it anything: its whole feed and no
 * demand reduction. A controller with no routing decision yet is assumed to be in this state.
 */
export const CONTROLLER_DEFAULT_ROUTING = { fraction: 1, demandReduction: false } as const;
