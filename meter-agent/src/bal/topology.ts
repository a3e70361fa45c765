import { AggregateBattery } from "./aggregateBattery.js";
import type { AggregateReporting } from "./aggregateValues.js";
import type { PartitionPolicy } from "./allocate.js";
import type { Battery, Clock } from "./battery.js";
import type { BatteryDriver } from "./batteryDriver.js";
import { TopologyConfigError } from "./errors.js";
import { PhysicalBattery, type PhysicalBatteryLimits } from "./physicalBattery.js";
import { simulatedBattery, type SimulatedBatterySpec } from "./simulatedBattery.js";
import { Splitter, type PartitionSpec } from "./splitter.js";

/** Builds the driver for a device battery from its config entry (e.g. "jbd" → a UART driver). */
export type DriverFactory = (battery: {
  readonly name: string;
  readonly interface: unknown;
}) => BatteryDriver;

export interface TopologyOptions {
  readonly clock?: Clock;
  /** Driver factories by battery kind; "simulated" is built in. */
  readonly drivers?: Readonly<Record<string, DriverFactory>>;
}

export interface DeviceBatterySpec extends PhysicalBatteryLimits {
  /** Where and how to reach the device (serial path, BLE address, host…); the driver reads it. */
  readonly interface: unknown;
}

/**
 * A named set of batteries built with the seed's `make_{battery, aggregator, splitter}()` family
 * (seed 004, "Battery Topology Configuration"). Names are unique across physical, aggregate and
 * partition batteries, and each battery feeds at most one aggregate or splitter: two parents
 * commanding one battery would each count its charge and overwrite each other's commands.
 */
export class Topology {
  readonly #batteries = new Map<string, Battery>();
  readonly #splitters = new Map<string, Splitter>();
  /** battery name → what consumes it */
  readonly #consumer = new Map<string, string>();
  readonly #clock: Clock;
  readonly #drivers: Readonly<Record<string, DriverFactory>>;

  constructor(options: TopologyOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#drivers = options.drivers ?? {};
  }

  makeBattery(name: string, kind: "simulated", spec: SimulatedBatterySpec): Battery;
  makeBattery(name: string, kind: string, spec: DeviceBatterySpec): Battery;
  makeBattery(name: string, kind: string, spec: SimulatedBatterySpec | DeviceBatterySpec): Battery {
    this.#claimName(name);
    if (kind === "simulated") {
      return this.add(simulatedBattery(name, spec as SimulatedBatterySpec, this.#clock).battery);
    }
    const factory = this.#drivers[kind];
    if (factory === undefined) {
      const known = ["simulated", ...Object.keys(this.#drivers)].join(", ");
      throw new TopologyConfigError([`battery "${name}": no driver for kind "${kind}" (known: ${known})`]);
    }
    let driver: BatteryDriver;
    try {
      driver = factory({ name, interface: (spec as DeviceBatterySpec).interface });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TopologyConfigError([`battery "${name}": the "${kind}" driver failed: ${reason}`], cause);
    }
    return this.add(new PhysicalBattery(name, driver, spec, this.#clock));
  }

  makeAggregator(name: string, members: readonly string[], reporting?: AggregateReporting): Battery {
    this.#claimName(name);
    const label = `aggregator "${name}"`;
    if (new Set(members).size !== members.length) {
      throw new TopologyConfigError([`${label}: lists a member twice`]);
    }
    const batteries = members.map((member) => this.#available(member, label));
    const aggregate = new AggregateBattery(name, batteries, reporting);
    for (const member of members) this.#consumer.set(member, label);
    return this.add(aggregate);
  }

  makeSplitter(partitions: readonly PartitionSpec[], source: string, policy?: PartitionPolicy): Battery[] {
    for (const p of partitions) this.#claimName(p.name);
    const label = `splitter of "${source}"`;
    const splitter = new Splitter(this.#available(source, label), partitions, policy, this.#clock);
    this.#consumer.set(source, label);
    this.#splitters.set(source, splitter);
    return splitter.partitions.map((partition) => this.add(partition));
  }

  /** Registers a battery built elsewhere (a networked battery, a driver with its own wiring). */
  add<B extends Battery>(battery: B): B {
    this.#claimName(battery.name, battery);
    this.#batteries.set(battery.name, battery);
    return battery;
  }

  get(name: string): Battery {
    const battery = this.#batteries.get(name);
    if (battery === undefined) throw new TopologyConfigError([`no battery named "${name}"`]);
    return battery;
  }

  has(name: string): boolean {
    return this.#batteries.has(name);
  }

  /** The splitter that partitions `source`, for its accounting of virtual charge flows. */
  splitterOf(source: string): Splitter {
    const splitter = this.#splitters.get(source);
    if (splitter === undefined) throw new TopologyConfigError([`battery "${source}" is not split`]);
    return splitter;
  }

  get names(): string[] {
    return [...this.#batteries.keys()];
  }

  #claimName(name: string, battery?: Battery): void {
    if (name === "") throw new TopologyConfigError(["a battery has an empty name"]);
    const existing = this.#batteries.get(name);
    if (existing !== undefined && existing !== battery) {
      throw new TopologyConfigError([`battery "${name}": name already in use`]);
    }
  }

  #available(name: string, consumer: string): Battery {
    const battery = this.#batteries.get(name);
    if (battery === undefined) throw new TopologyConfigError([`${consumer}: no battery named "${name}"`]);
    const previous = this.#consumer.get(name);
    if (previous !== undefined) {
      throw new TopologyConfigError([`${consumer}: battery "${name}" already belongs to ${previous}`]);
    }
    return battery;
  }
}
