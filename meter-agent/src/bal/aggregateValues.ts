import type { BatteryStatus, BatteryValues } from "./battery.js";

/**
 * How an aggregate reports constituents whose states of charge differ (seed 004, "Reporting with
 * Unbalanced States of Charge"). The BAL uses variable current; variable charge is kept to
 * reproduce Table III.2.5 and for deployments that prefer a constant advertised current.
 */
export type AggregateReporting = "variableCurrent" | "variableCharge";

export interface AggregateView {
  readonly values: BatteryValues;
  readonly expected: BatteryValues;
  /** Per online member, the weight of its share of a discharge request (its contribution). */
  readonly dischargeWeights: readonly number[];
  /** Per online member, the weight of its share of a charge request. */
  readonly chargeWeights: readonly number[];
}

/**
 * Combines constituent values into an aggregate's.
 *
 * Expected values (Table III.2.3): capacity is the sum; the C-rate is the minimum of the
 * constituents' C-rates (rated current / capacity); the maximum current is that C-rate times the
 * capacity. With A = 60 A / 110 Ah and B = 40 A / 40 Ah: C-rate 6/11, 150 Ah, 81.8 A.
 *
 * Current values under variable current (Table III.2.4): the same minimum-C-rate rule applied to
 * what each member can give from where it stands — stored charge when discharging, headroom when
 * charging — so that all members empty (or fill) at the same moment: the aggregate current is
 * min_j(I_j / Q_j) · Σ Q_j and member j's share is proportional to Q_j. Balanced members at any
 * state of charge reproduce Table III.2.3's 81.8 A; A at 10 Ah (9 %) with B full gives 50 A at
 * "C-rate 1" (50 A over the 50 Ah stored). Members that cannot move current in a direction now
 * (empty, full, or limit 0) take no part in it rather than blocking the others.
 */
export function aggregateValues(
  online: readonly BatteryStatus[],
  expected: readonly BatteryValues[],
  reporting: AggregateReporting,
): AggregateView {
  const expectedView = combineExpected(expected);
  const capacity = sum(online.map((m) => m.capacity));
  const stored = online.map((m) => m.stateOfCharge * m.capacity);
  const headroom = online.map((m, j) => Math.max(0, m.capacity - stored[j]!));
  // The seed: "The state of charge of the aggregate battery is the weighted sum of the constituent
  // batteries based on their maximum charge."
  const stateOfCharge = capacity > 0 ? sum(stored) / capacity : 0;

  const charging = balancedFlow(
    online.map((m) => m.maxChargeCurrent),
    headroom,
    online.map((m) => m.capacity),
  );
  let discharging = balancedFlow(
    online.map((m) => m.maxDischargeCurrent),
    stored,
    online.map((m) => m.capacity),
  );
  let reportedStateOfCharge = stateOfCharge;
  if (reporting === "variableCharge") {
    const fixed = variableCharge(
      online.map((m) => m.maxDischargeCurrent),
      stored,
      expectedView.maxDischargeCurrent,
    );
    discharging = { max: fixed.current, weights: fixed.weights };
    reportedStateOfCharge = capacity > 0 ? fixed.charge / capacity : 0;
  }

  return {
    values: {
      capacity,
      stateOfCharge: reportedStateOfCharge,
      maxChargeCurrent: charging.max,
      maxDischargeCurrent: discharging.max,
    },
    expected: expectedView,
    dischargeWeights: discharging.weights,
    chargeWeights: charging.weights,
  };
}

function combineExpected(members: readonly BatteryValues[]): BatteryValues {
  const capacity = sum(members.map((m) => m.capacity));
  if (capacity <= 0) return { capacity: 0, stateOfCharge: 0, maxChargeCurrent: 0, maxDischargeCurrent: 0 };
  const sized = members.filter((m) => m.capacity > 0);
  const cRate = (limit: (m: BatteryValues) => number) => Math.min(...sized.map((m) => limit(m) / m.capacity));
  return {
    capacity,
    stateOfCharge: sum(sized.map((m) => m.stateOfCharge * m.capacity)) / capacity,
    maxChargeCurrent: cRate((m) => m.maxChargeCurrent) * capacity,
    maxDischargeCurrent: cRate((m) => m.maxDischargeCurrent) * capacity,
  };
}

/** Minimum-C-rate flow over the charge (or headroom) each member has available. */
function balancedFlow(
  limits: readonly number[],
  available: readonly number[],
  capacities: readonly number[],
): { max: number; weights: number[] } {
  const taking = limits.map((limit, j) => limit > 0 && available[j]! > 1e-12 * capacities[j]!);
  const weights = available.map((a, j) => (taking[j] ? a : 0));
  const total = sum(weights);
  if (total === 0) return { max: 0, weights };
  const rate = Math.min(...limits.flatMap((limit, j) => (taking[j] ? [limit / available[j]!] : [])));
  return { max: rate * total, weights };
}

/**
 * Variable charge (Table III.2.5): hold the discharge current at `fixed` and report as charge only
 * what can be delivered at that current. The longest time T it can be sustained is the largest T
 * with Σ_j min(I_j · T, Q_j) ≥ fixed · T — a concave, piecewise-linear condition solved across the
 * breakpoints Q_j / I_j. Member j then contributes min(I_j, Q_j / T): for Table III.2.5, 41.8 A from
 * A (empty after 14 minutes) and 40 A from B, 19.6 Ah in all, 13 % of 150 Ah. The seed defines
 * variable charge for discharging only; charging keeps the variable-current rule.
 */
function variableCharge(
  limits: readonly number[],
  stored: readonly number[],
  fixed: number,
): { current: number; charge: number; weights: number[] } {
  const none = { current: 0, charge: 0, weights: limits.map(() => 0) };
  if (!(fixed > 0)) return none;
  const members = limits
    .map((limit, j) => ({ limit, stored: stored[j]!, empties: stored[j]! / limit }))
    .filter((m) => m.limit > 0 && m.stored > 0)
    .sort((a, b) => a.empties - b.empties);
  let rate = sum(members.map((m) => m.limit));
  if (rate < fixed) return none;
  let drained = 0;
  let time = Infinity;
  for (let k = 0; k < members.length; k++) {
    rate -= members[k]!.limit;
    drained += members[k]!.stored;
    if (rate >= fixed) continue;
    const root = drained / (fixed - rate);
    if (k === members.length - 1 || root <= members[k + 1]!.empties) {
      time = root;
      break;
    }
  }
  if (!Number.isFinite(time) || time <= 0) return none;
  return {
    current: fixed,
    charge: fixed * time,
    weights: limits.map((limit, j) => (limit > 0 && stored[j]! > 0 ? Math.min(limit, stored[j]! / time) : 0)),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
