import { Mutex } from "../common/mutex.js";
import { allocate, type AllocationSlot, type PartitionPolicy } from "./allocate.js";
import type { Battery, BatteryStatus, Clock } from "./battery.js";
import { checkCurrent, withinLimit } from "./checkCurrent.js";
import { TopologyConfigError } from "./errors.js";

export interface PartitionSpec {
  readonly name: string;
  /** Share of the source's expected values (capacity and currents), in (0, 1]; shares sum to 1. */
  readonly fraction: number;
  /**
   * Charge the partition holds at start (ampere-hours), e.g. restored after a restart. Without it
   * the partitions start balanced: their fractions of the charge the source holds when the
   * splitter first reads it (its first status read, command or `accounting()`).
   */
  readonly charge?: number;
}

export interface PartitionLedger {
  readonly name: string;
  /** Present current request, positive = discharging (amperes). */
  readonly current: number;
  /** The charge the partition's own requests leave it with (ampere-hours). */
  readonly expectedCharge: number;
  /** Charge drawn in and given out since start (ampere-hours), what each partition is billed on. */
  readonly charged: number;
  readonly discharged: number;
}

export interface SplitterAccounting {
  readonly partitions: readonly PartitionLedger[];
  /**
   * Charge that moved from discharging partitions to charging ones in software only, never
   * through the source (seed 004, "Partition Accounting"): the amount to settle between owners.
   */
  readonly virtualTransfer: number;
  /** Net charge that actually went into and out of the source on the partitions' behalf. */
  readonly sourceCharged: number;
  readonly sourceDischarged: number;
}

const msPerHour = 3_600_000;

/**
 * One battery divided into partitions (seed 004, "Partitioned Batteries").
 *
 * Each partition's requests are recorded and integrated into its expected charge; the source
 * receives only their sum, so opposing requests cancel at the source and their charge moves
 * between partitions in the accounts (Tables III.2.9, III.2.11). What the source actually holds
 * is then shared out by the policy, bounded by 0 and each partition's maximum (Tables
 * III.2.6–III.2.8). The same policy shares out capacity and the current limits: the seed applies
 * partitioning "uniform[ly] across the properties".
 *
 * Bounds are enforced when the splitter looks (any status read or command of a partition or
 * `accounting()`): a partition found empty while discharging, or full while charging, is stopped
 * and the source recommanded. Poll as often as that precision needs.
 */
export class Splitter {
  readonly partitions: readonly Battery[];
  readonly #mutex = new Mutex();
  readonly #specs: readonly PartitionSpec[];
  #requests: number[];
  #expected: number[] | undefined;
  #last = 0;
  readonly #charged: number[];
  readonly #discharged: number[];
  #virtualTransfer = 0;
  #sourceCharged = 0;
  #sourceDischarged = 0;

  constructor(
    readonly source: Battery,
    specs: readonly PartitionSpec[],
    readonly policy: PartitionPolicy = "proportional",
    private readonly clock: Clock = Date.now,
  ) {
    checkSpecs(source.name, specs);
    this.#specs = specs;
    this.#requests = specs.map(() => 0);
    this.#charged = specs.map(() => 0);
    this.#discharged = specs.map(() => 0);
    this.partitions = specs.map((spec, i) => new PartitionBattery(spec.name, this, i));
  }

  async accounting(): Promise<SplitterAccounting> {
    return this.#mutex.run(async () => {
      await this.#refresh();
      return this.#accounting();
    });
  }

  /** Every partition's status and the accounts from one read of the source (for reports). */
  async snapshot(): Promise<{ statuses: BatteryStatus[]; accounting: SplitterAccounting }> {
    return this.#mutex.run(async () => {
      const statuses = await this.#refresh();
      return { statuses, accounting: this.#accounting() };
    });
  }

  #accounting(): SplitterAccounting {
    return {
      partitions: this.#specs.map((spec, i) => ({
        name: spec.name,
        current: this.#requests[i]!,
        expectedCharge: this.#expected![i]!,
        charged: this.#charged[i]!,
        discharged: this.#discharged[i]!,
      })),
      virtualTransfer: this.#virtualTransfer,
      sourceCharged: this.#sourceCharged,
      sourceDischarged: this.#sourceDischarged,
    };
  }

  /** @internal the partitions' getStatus */
  statusOf(index: number): Promise<BatteryStatus> {
    return this.#mutex.run(async () => (await this.#refresh())[index]!);
  }

  /** @internal the partitions' setCurrent */
  setCurrentOf(index: number, current: number): Promise<void> {
    return this.#mutex.run(async () => {
      const views = await this.#refresh();
      checkCurrent(this.#specs[index]!.name, current, views[index]!);
      const next = this.#requests.with(index, current);
      // The source is commanded before the books change: if it refuses, nothing has changed.
      await this.source.setCurrent(next.reduce((a, b) => a + b, 0));
      this.#requests = next;
    });
  }

  async #refresh(): Promise<BatteryStatus[]> {
    const now = this.clock();
    this.#advance(now);
    const source = await this.source.getStatus();
    const stored = source.stateOfCharge * source.capacity;
    if (this.#expected === undefined) {
      this.#expected = this.#specs.map((spec) => spec.charge ?? spec.fraction * stored);
      this.#last = now;
    }
    const views = this.#views(source, stored, now);
    const next = this.#requests.map((request, i) => {
      const limit = request > 0 ? views[i]!.maxDischargeCurrent : views[i]!.maxChargeCurrent;
      return withinLimit(Math.abs(request), limit) ? request : Math.sign(request) * limit || 0;
    });
    if (next.some((request, i) => request !== this.#requests[i])) {
      await this.source.setCurrent(next.reduce((a, b) => a + b, 0));
      this.#requests = next;
      return views.map((view, i) => ({ ...view, current: next[i]! }));
    }
    return views;
  }

  /** Integrates the requests in force since the last look into the partitions' accounts. */
  #advance(now: number): void {
    if (this.#expected === undefined) return;
    const hours = Math.max(0, now - this.#last) / msPerHour;
    this.#last = Math.max(this.#last, now);
    if (hours === 0) return;
    let charging = 0;
    let discharging = 0;
    this.#requests.forEach((request, i) => {
      this.#expected![i]! -= request * hours;
      if (request > 0) {
        this.#discharged[i]! += request * hours;
        discharging += request;
      } else {
        this.#charged[i]! -= request * hours;
        charging -= request;
      }
    });
    this.#virtualTransfer += Math.min(charging, discharging) * hours;
    this.#sourceCharged += Math.max(0, charging - discharging) * hours;
    this.#sourceDischarged += Math.max(0, discharging - charging) * hours;
  }

  #views(source: BatteryStatus, stored: number, now: number): BatteryStatus[] {
    const shares = (of: number): AllocationSlot[] =>
      this.#specs.map((spec) => ({ expected: spec.fraction * of, fraction: spec.fraction }));
    const { expected } = source;
    const capacity = allocate(this.policy, shares(expected.capacity), source.capacity);
    const maxCharge = allocate(this.policy, shares(expected.maxChargeCurrent), source.maxChargeCurrent);
    const maxDischarge = allocate(
      this.policy,
      shares(expected.maxDischargeCurrent),
      source.maxDischargeCurrent,
    );
    const charge = allocate(
      this.policy,
      this.#specs.map((spec, i) => ({
        expected: this.#expected![i]!,
        fraction: spec.fraction,
        max: capacity[i]!,
      })),
      stored,
    );
    return this.#specs.map((spec, i) => {
      const cap = capacity[i]!;
      const held = charge[i]!;
      const expectedCapacity = spec.fraction * expected.capacity;
      return {
        capacity: cap,
        stateOfCharge: cap > 0 ? Math.min(1, held / cap) : 0,
        maxChargeCurrent: held >= cap - 1e-9 * Math.max(1, cap) ? 0 : maxCharge[i]!,
        maxDischargeCurrent: held <= 1e-9 * Math.max(1, cap) ? 0 : maxDischarge[i]!,
        voltage: source.voltage,
        current: this.#requests[i]!,
        expected: {
          capacity: expectedCapacity,
          stateOfCharge:
            expectedCapacity > 0 ? Math.min(1, Math.max(0, this.#expected![i]! / expectedCapacity)) : 0,
          maxChargeCurrent: spec.fraction * expected.maxChargeCurrent,
          maxDischargeCurrent: spec.fraction * expected.maxDischargeCurrent,
        },
        timestamp: [Math.min(now, source.timestamp[0]), source.timestamp[1]],
      };
    });
  }
}

class PartitionBattery implements Battery {
  constructor(
    readonly name: string,
    private readonly splitter: Splitter,
    private readonly index: number,
  ) {}

  getStatus(): Promise<BatteryStatus> {
    return this.splitter.statusOf(this.index);
  }

  setCurrent(current: number): Promise<void> {
    return this.splitter.setCurrentOf(this.index, current);
  }
}

function checkSpecs(source: string, specs: readonly PartitionSpec[]): void {
  const problems: string[] = [];
  if (specs.length === 0) problems.push(`splitter of "${source}": needs at least one partition`);
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.name === "") problems.push(`splitter of "${source}": a partition has an empty name`);
    if (seen.has(spec.name)) problems.push(`partition "${spec.name}": name used twice`);
    seen.add(spec.name);
    if (!(spec.fraction > 0 && spec.fraction <= 1)) {
      problems.push(`partition "${spec.name}": fraction must lie in (0, 1], got ${spec.fraction}`);
    }
    if (spec.charge !== undefined && !(spec.charge >= 0)) {
      problems.push(
        `partition "${spec.name}": charge must be a non-negative number of Ah, got ${spec.charge}`,
      );
    }
  }
  const total = specs.reduce((a, s) => a + s.fraction, 0);
  // The seed: partitions "which in sum are equal to the original battery". A remainder owned by
  // nobody would receive every surplus and deficit under all three policies.
  if (specs.length > 0 && Math.abs(total - 1) > 1e-9) {
    problems.push(`splitter of "${source}": partition fractions must sum to 1, got ${total}`);
  }
  if (problems.length > 0) throw new TopologyConfigError(problems);
}
