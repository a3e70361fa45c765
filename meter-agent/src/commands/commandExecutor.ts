import {
  signedReadingToJson,
  type Address,
  type MeterCommandParams,
  type MeterCommandRequest,
  type SignedReadingJson,
} from "@gridmesh/contracts";

import type { Battery, BatteryStatus } from "../bal/battery.js";
import type { AgentClock } from "../readings/clock.js";
import type { ReadingStore, StoreCounts, UplinkCounts } from "../store/readingStore.js";
import { aggregateReadings, type ReadingAggregate } from "./aggregateReadings.js";
import { CommandReplayedError } from "./commandErrors.js";
import {
  putBillingRates,
  readBillingRates,
  readControllerNonce,
  readMeterState,
  writeControllerNonce,
  writeMeterState,
  type BillingRates,
  type MeterState,
} from "./meterState.js";

export interface CommandExecutorOptions {
  store: ReadingStore;
  /** The meter's battery, if it has one; `status` reports it. */
  battery?: Battery;
  clock: Pick<AgentClock, "now">;
  /**
   * Called after a command changed the meter state and it is committed, e.g. to let the battery
   * policy act at once rather than at the next data interval. It must not throw.
   */
  onStateChange?: (state: MeterState) => void;
}

/** Who sent a verified command, and its nonce. */
export interface CommandAuthority {
  controller: Address;
  nonce: bigint;
}

/** The name the store records for readings the controller acknowledged. */
export const DELIVERED_VIA_CONTROLLER = "controller";

export interface ReadingsResult {
  readings: SignedReadingJson[];
  /** More readings follow the last one returned. */
  more: boolean;
}

export interface AcknowledgeResult {
  acknowledged: string[];
  alreadyDelivered: string[];
  /** Sequences the store does not hold (never recorded, or collected after ten weeks). */
  unknown: string[];
}

export interface StateResult {
  state: MeterState;
}

export interface BillingRatesResult {
  billingRates: BillingRates[];
}

export interface MeterStatus extends MeterState {
  meter: Address;
  atMs: number;
  /** From the battery now; null without a battery or when it cannot be read. */
  batteryStateOfCharge: number | null;
  battery: BatteryStatus | null;
  batteryError?: string;
  lastReading: (SignedReadingJson & { deliveredMs: number | null }) | null;
  counts: StoreCounts;
  /** Per uplink the agent owes readings to. */
  uplinks: Record<string, UplinkCounts>;
  billingRates: BillingRates[];
}

export type CommandResult =
  ReadingsResult | AcknowledgeResult | ReadingAggregate | StateResult | BillingRatesResult | MeterStatus;

type BatterySnapshot = { status: BatteryStatus } | { error: string } | undefined;

/**
 * Carries out verified controller commands against the reading store. Each command's effect and the
 * controller's new nonce are committed in one transaction, so a command is either applied and
 * unrepeatable or not applied at all. Results are
 * JSON-ready: uint64 values as decimal strings.
 */
export class CommandExecutor {
  readonly #o: CommandExecutorOptions;

  constructor(options: CommandExecutorOptions) {
    this.#o = options;
  }

  /** Throws `CommandReplayedError` (and changes nothing) unless `nonce` is above the last one. */
  async execute(request: MeterCommandRequest, authority: CommandAuthority): Promise<CommandResult> {
    // The one await comes first. From here on everything is synchronous (node:sqlite), so no other
    // command can run between this one's nonce check and its nonce write.
    const battery = request.command === "status" ? await this.#batterySnapshot() : undefined;
    const { store } = this.#o;
    if (request.command === "acknowledge") return this.#acknowledge(request.params, authority);

    const { result, state } = store.transaction(() => {
      this.#claimNonce(authority);
      return this.#apply(request, battery);
    });
    if (state !== undefined) this.#o.onStateChange?.(state);
    return result;
  }

  /** The meter whose store this executor changes. */
  get meter(): Address {
    return this.#o.store.meter;
  }

  /** The last nonce accepted from `controller` (0 before its first command). */
  lastNonce(controller: Address): bigint {
    return readControllerNonce(this.#o.store, controller);
  }

  #checkNonce({ controller, nonce }: CommandAuthority): void {
    const last = readControllerNonce(this.#o.store, controller);
    if (nonce <= last) {
      throw new CommandReplayedError(
        `nonce ${nonce} is not above ${last}, the last accepted from controller ${controller}: a replayed or stale command`,
        { controller, nonce: nonce.toString(), lastNonce: last.toString() },
      );
    }
  }

  #claimNonce(authority: CommandAuthority): void {
    this.#checkNonce(authority);
    writeControllerNonce(this.#o.store, authority.controller, authority.nonce);
  }

  /** Runs inside the command's transaction; `state` is set when the meter state changed. */
  #apply(
    request: Exclude<MeterCommandRequest, { command: "acknowledge" }>,
    battery: BatterySnapshot,
  ): { result: CommandResult; state?: MeterState } {
    const { store, clock } = this.#o;
    const setState = (change: Partial<MeterState>) => {
      const state = { ...readMeterState(store), ...change };
      writeMeterState(store, state);
      return { result: { state }, state };
    };
    switch (request.command) {
      case "get_readings_since": {
        const { sequence, limit } = request.params;
        // One extra row tells whether more follow without a count query.
        const rows = store.since(sequence, limit + 1);
        return {
          result: { readings: rows.slice(0, limit).map(signedReadingToJson), more: rows.length > limit },
        };
      }
      case "aggregate": {
        const { fromSequence, toSequence, lossless } = request.params;
        const { state } = setState({ aggregating: true, aggregationLossless: lossless });
        const readings = store.range(fromSequence, toSequence).map((s) => s.reading);
        return { result: aggregateReadings(readings, fromSequence, toSequence, lossless), state };
      }
      case "set_data_interval":
        return setState({ dataIntervalSeconds: request.params.seconds });
      case "reduce_power_demand_on":
        return setState({ reducingPowerDemand: true });
      case "reduce_power_demand_off":
        return setState({ reducingPowerDemand: false });
      case "share_power_on":
        return setState({ sharingPower: true, batteryThreshold: request.params.batteryThreshold });
      case "share_power_off":
        // The threshold stays: it is still the reserve reported in `status` and reused if asked again.
        return setState({ sharingPower: false });
      case "put_billing_rates":
        return {
          result: { billingRates: putBillingRates(store, { ...request.params, receivedMs: clock.now() }) },
        };
      case "status":
        return { result: this.#status(battery) };
    }
  }

  /** Marks the listed readings delivered; the effect and the nonce commit together. */
  #acknowledge(
    { sequences }: MeterCommandParams<"acknowledge">,
    authority: CommandAuthority,
  ): AcknowledgeResult {
    const { store, clock } = this.#o;
    return store.transaction(() => {
      this.#claimNonce(authority);
      const result: AcknowledgeResult = { acknowledged: [], alreadyDelivered: [], unknown: [] };
      const now = clock.now();
      // Per uplink: a reading the gateway already has is still news to the controller.
      for (const sequence of sequences) {
        if (store.get(sequence) === undefined) result.unknown.push(sequence.toString());
        else if (store.markDelivered([sequence], DELIVERED_VIA_CONTROLLER, now) === 1)
          result.acknowledged.push(sequence.toString());
        else result.alreadyDelivered.push(sequence.toString());
      }
      return result;
    });
  }

  #status(battery: BatterySnapshot): MeterStatus {
    const { store, clock } = this.#o;
    const last = store.last();
    const status = battery !== undefined && "status" in battery ? battery.status : null;
    return {
      meter: store.meter,
      atMs: clock.now(),
      ...readMeterState(store),
      batteryStateOfCharge: status?.stateOfCharge ?? null,
      battery: status,
      ...(battery !== undefined && "error" in battery && { batteryError: battery.error }),
      lastReading:
        last === undefined ? null : { ...signedReadingToJson(last), deliveredMs: last.deliveredMs },
      counts: store.counts(),
      uplinks: store.uplinkCounts(),
      billingRates: readBillingRates(store),
    };
  }

  /** A battery that cannot be read must not stop `status` from reporting everything else. */
  async #batterySnapshot(): Promise<BatterySnapshot> {
    if (this.#o.battery === undefined) return undefined;
    try {
      return { status: await this.#o.battery.getStatus() };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }
}
