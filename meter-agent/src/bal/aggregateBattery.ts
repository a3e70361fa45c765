import { Mutex } from "../common/mutex.js";
import type { Battery, BatteryStatus, BatteryValues } from "./battery.js";
import { aggregateValues, type AggregateReporting, type AggregateView } from "./aggregateValues.js";
import { checkCurrent } from "./checkCurrent.js";
import { BatteryUnavailableError, TopologyConfigError } from "./errors.js";

interface Snapshot {
  readonly status: BatteryStatus;
  readonly view: AggregateView;
  readonly online: readonly { readonly member: Battery; readonly status: BatteryStatus }[];
}

/**
 * Several batteries presented as one (seed 004, "Aggregate Batteries"). A member that cannot be
 * read is treated as offline: it drops out of the current values and of command splitting, while
 * the expected values keep its last known ones — the seed's "current values report potentially
 * lower values if constituent batteries are offline".
 */
export class AggregateBattery implements Battery {
  readonly #mutex = new Mutex();
  readonly #lastExpected = new Map<Battery, BatteryValues>();

  constructor(
    readonly name: string,
    private readonly members: readonly Battery[],
    private readonly reporting: AggregateReporting = "variableCurrent",
  ) {
    if (members.length === 0)
      throw new TopologyConfigError([`aggregate "${name}": needs at least one member`]);
  }

  async getStatus(): Promise<BatteryStatus> {
    return (await this.#mutex.run(() => this.#snapshot())).status;
  }

  /**
   * Splits the request across members by their contribution to the aggregate's limit (seed 004,
   * "Charge / Discharge on Aggregate Batteries": SetDischarge(50) on Table III.2.10's C gives A
   * 50 · 60/81.8 and B 50 · 21.8/81.8). Every online member is commanded, idle ones with 0, so a
   * member left over from an earlier split stops. If a member refuses, those already set are put
   * back to their previous currents and the error is raised.
   */
  setCurrent(current: number): Promise<void> {
    return this.#mutex.run(async () => {
      const { status, view, online } = await this.#snapshot();
      checkCurrent(this.name, current, status);
      const weights = current >= 0 ? view.dischargeWeights : view.chargeWeights;
      const total = weights.reduce((a, b) => a + b, 0);
      const shares = online.map(({ status: s }, j) => {
        if (current === 0 || total === 0) return 0;
        const share = (current * weights[j]!) / total;
        return current > 0 ? Math.min(share, s.maxDischargeCurrent) : Math.max(share, -s.maxChargeCurrent);
      });
      const done: { member: Battery; previous: number }[] = [];
      for (const [j, { member, status: s }] of online.entries()) {
        try {
          await member.setCurrent(shares[j]!);
          done.push({ member, previous: s.current });
        } catch (cause) {
          const rollbackFailures = await rollBack(done);
          throw new BatteryUnavailableError(this.name, `set current ${current} A`, cause, {
            member: member.name,
            share: shares[j],
            rollbackFailures,
          });
        }
      }
    });
  }

  async #snapshot(): Promise<Snapshot> {
    const results = await Promise.allSettled(this.members.map((m) => m.getStatus()));
    const online: { member: Battery; status: BatteryStatus }[] = [];
    const failures: Record<string, string> = {};
    results.forEach((result, j) => {
      const member = this.members[j]!;
      if (result.status === "fulfilled") {
        online.push({ member, status: result.value });
        this.#lastExpected.set(member, result.value.expected);
      } else {
        failures[member.name] =
          result.reason instanceof Error ? result.reason.message : String(result.reason);
      }
    });
    if (online.length === 0) {
      throw new BatteryUnavailableError(this.name, "read status", new Error("every member is offline"), {
        failures,
      });
    }
    const statuses = online.map((o) => o.status);
    const view = aggregateValues(statuses, [...this.#lastExpected.values()], this.reporting);
    const capacity = view.values.capacity;
    const status: BatteryStatus = {
      ...view.values,
      // Members are not wired in series or in parallel in any fixed way; the capacity-weighted mean
      // is the voltage a single battery of the same make-up would show.
      voltage:
        capacity > 0
          ? statuses.reduce((a, s) => a + s.voltage * s.capacity, 0) / capacity
          : statuses.reduce((a, s) => a + s.voltage, 0) / statuses.length,
      current: statuses.reduce((a, s) => a + s.current, 0),
      expected: view.expected,
      timestamp: [
        Math.min(...statuses.map((s) => s.timestamp[0])),
        Math.max(...statuses.map((s) => s.timestamp[1])),
      ],
    };
    return { status, view, online };
  }
}

async function rollBack(done: readonly { member: Battery; previous: number }[]): Promise<string[]> {
  const failures: string[] = [];
  for (const { member, previous } of done.toReversed()) {
    try {
      await member.setCurrent(previous);
    } catch (error) {
      failures.push(`${member.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failures;
}
