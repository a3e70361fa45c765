import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import type { Signer } from "ethers";
import type { Logger } from "pino";

import { realClock, type Clock } from "@gridmesh/contracts";

import type { AgentStatus } from "./agentResults.js";
import type { ControllerCommand, ControllerCommandResponse, ControllerStatus } from "./controllerApi.js";
import type { ControllerConfig, MeterConfig } from "./controllerConfig.js";
import { openControllerDatabase } from "./controllerDatabase.js";
import { openControllerParts, type ControllerParts } from "./controllerParts.js";
import { decideSharing, type BatteryMeterView } from "./energySharing.js";
import type { MeterEndpoint } from "./meterLink.js";
import { slotOf, type ForwardedCommand } from "./meterOutbox.js";
import { settingsToResend } from "./meterReconciliation.js";
import { deliverOutbox } from "./outboxDelivery.js";
import type { MeterRequest } from "./requestStack.js";
import { USAGE_RETENTION_MS } from "./usageFiles.js";

export interface MicrogridControllerOptions {
  config: ControllerConfig;
  /** The controller's key; its address is in every agent's `commands.controllers`. */
  signer: Pick<Signer, "signTypedData" | "getAddress">;
  /** The controller's time: Data_Time_Interval, usage hours, probes, garbage collection. */
  clock: Clock;
  /** The clock command expiries are signed on; agents check them on the wall clock. */
  commandClock?: Clock;
  logger: Logger;
}

/**
 * A meter is due for a poll once its data is older than the interval less this share of it. A poll
 * takes time, so the last round's data is always a little younger than an interval at the next
 * tick; without the allowance every meter would be polled every other interval. A meter answered
 * late in the last round (a retry) is still left out of this one.
 */
const DUE_ALLOWANCE = 0.5;
/** Battery reports older than this many data intervals are too old to share power on. */
const STALE_AFTER_INTERVALS = 3;

/**
 * A microgrid controller (seed 000 §2.1): polls its meters every Data_Time_Interval through the
 * Request_Stack into hourly usage files, serves those files to the central utility and turns them
 * into backups when the utility acknowledges them, forwards the utility's commands to the meters,
 * shares battery power within the microgrid and asks meters to reduce demand while the utility
 * is offline, and collects backups after ten weeks. Everything it must not forget is in its data
 * directory: a restarted controller carries on where it stopped. An instance starts once.
 */
export class MicrogridController {
  readonly #config: ControllerConfig;
  readonly #signer: MicrogridControllerOptions["signer"];
  readonly #clock: Clock;
  readonly #commandClock: Clock;
  readonly #logger: Logger;
  readonly #meters: Map<string, MeterConfig>;
  readonly #initialized = new Set<string>();
  readonly #abort = new AbortController();
  #parts: ControllerParts | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: MicrogridControllerOptions) {
    this.#config = options.config;
    this.#signer = options.signer;
    // Whole milliseconds: a scaled clock gives fractions, and the tables hold integers.
    this.#clock = {
      now: () => Math.floor(options.clock.now()),
      delayUntil: (at) => options.clock.delayUntil(at),
    };
    this.#commandClock = options.commandClock ?? realClock;
    this.#logger = options.logger.child({ controllerId: options.config.controllerId });
    this.#meters = new Map(options.config.meters.map((m) => [m.meter.toLowerCase(), m]));
  }

  /** Opens the data directory, starts every process and the HTTP server; returns its URL. */
  async start(): Promise<string> {
    if (this.#parts !== undefined) throw new Error("the controller is already started");
    const config = this.#config;
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const db = openControllerDatabase(join(config.dataDir, "controller.db"));
    try {
      const parts = await openControllerParts(
        {
          config,
          meters: [...this.#meters.values()],
          db,
          signer: this.#signer,
          clock: this.#clock,
          commandClock: this.#commandClock,
          logger: this.#logger,
          signal: this.#abort.signal,
        },
        {
          run: (request) => this.#run(request),
          roundDone: () => this.#manageEnergyDistribution(),
          command: (command) => this.#processUtilityCommand(command),
          status: () => this.status(),
          utilityContact: () => this.#parts?.watch.contact(),
          offlineChanged: () => this.#forwardDemandReduction(),
          queryMeterData: () => this.#queryMeterData(),
          collectGarbage: () => this.collectGarbage(),
        },
      );
      this.#parts = parts;
      const url = await parts.server.listen();
      this.#begin(parts);
      this.#logger.info(
        {
          url,
          controller: await this.#signer.getAddress(),
          meters: this.#meters.size,
          dataIntervalSeconds: parts.settings.dataIntervalSeconds,
        },
        "microgrid controller started",
      );
      return url;
    } catch (error) {
      if (this.#parts === undefined) db.close();
      else await this.#close(this.#parts);
      throw error;
    }
  }

  get url(): string {
    if (this.#parts === undefined) throw new Error("the controller is not started");
    return this.#parts.server.url;
  }

  /** Stops every process, waits for requests in flight, and closes the database. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#parts === undefined) return;
      await this.#close(this.#parts);
      this.#logger.info("microgrid controller stopped");
    })();
    return this.#stopping;
  }

  async #close(parts: ControllerParts): Promise<void> {
    await Promise.all([parts.ticks.stop(), parts.gc.stop(), parts.watch.stop()]);
    this.#abort.abort();
    await parts.workers.stop();
    // Not listening when start failed before it could.
    await parts.server.close().catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") throw error;
    });
    parts.db.close();
  }

  /** The controller's tables, as `GET /v1/status` shows them. */
  status(): ControllerStatus {
    const p = this.#require();
    const meters = [...this.#meters.values()].map((m) => {
      const s = p.store.meterState(m.meter);
      return {
        meter: m.meter,
        isOn: s.isOn,
        sharingPower: s.sharingPower,
        aggregating: s.aggregating,
        reducingPowerDemand: s.reducingPowerDemand,
        batteryThreshold: m.battery ? m.batteryThreshold : null,
        batteryPercent: m.battery ? s.batteryPercent : null,
        lastUpdateMs: s.lastUpdateMs,
        lastSequence: s.storedThrough > 0n ? s.storedThrough.toString() : null,
      };
    });
    return {
      controllerId: this.#config.controllerId,
      atMs: this.#clock.now(),
      dataIntervalSeconds: p.settings.dataIntervalSeconds,
      utilityReachable: p.watch.reachable,
      utilityDemandReduction: p.settings.utilityDemandReduction,
      offlineDemandReduction: p.settings.offlineDemandReduction,
      gridSupplyFraction: p.settings.gridSupplyFraction,
      requestStack: p.stack.size,
      pendingMeterCommands: p.outbox.pending().filter((e) => this.#meters.has(e.meter)).length,
      meters,
    };
  }

  /** Garbage_collect: backups and finished meter commands older than ten weeks. */
  async collectGarbage(): Promise<string[]> {
    const p = this.#require();
    const now = this.#clock.now();
    const removed = await p.usage.collectGarbage(now);
    const commands = p.outbox.collect(now - USAGE_RETENTION_MS);
    if (removed.length > 0 || commands > 0)
      this.#logger.info({ backups: removed.length, commands }, "collected what is older than ten weeks");
    return removed;
  }

  /** Initialize_meters' data interval, then every periodic process. */
  #begin(parts: ControllerParts): void {
    this.#enqueue([...this.#meters.keys()], {
      command: "set_data_interval",
      params: { seconds: this.#intervalSeconds() },
    });
    for (const entry of parts.outbox.pending())
      if (this.#meters.has(entry.meter)) parts.workers.push("deliver", entry.meter);
    parts.gc.start();
    parts.watch.start();
    parts.ticks.start();
  }

  /** Query_meter_data: a `get` on the stack for every meter whose data is older than the interval. */
  #queryMeterData(): void {
    const { store, workers } = this.#require();
    const now = this.#clock.now();
    const dueAfterMs = this.#intervalSeconds() * 1000 * (1 - DUE_ALLOWANCE);
    for (const key of this.#meters.keys()) {
      if (workers.inFlight("get", key)) continue;
      const { lastUpdateMs } = store.meterState(key);
      if (lastUpdateMs === null || now - lastUpdateMs >= dueAfterMs) workers.push("get", key);
    }
  }

  async #run(request: MeterRequest): Promise<void> {
    const p = this.#require();
    const endpoint = this.#endpoint(request.meter);
    if (request.kind === "deliver")
      await deliverOutbox({ ...p, clock: this.#clock, logger: this.#logger }, endpoint);
    else await this.#get(endpoint, request.meter);
    // The meter answers again: whatever waited for it need not wait out its retry delay.
    p.stack.meterAnswered(request.meter);
    if (request.failures > 0)
      this.#logger.info({ meter: endpoint.meter, failures: request.failures }, "the meter answers again");
  }

  async #get(endpoint: MeterEndpoint, key: string): Promise<void> {
    const p = this.#require();
    const result = await p.polling.poll(endpoint, !this.#initialized.has(key));
    if (result.initialized) this.#initialized.add(key);
    if (result.stored > 0)
      this.#logger.debug(
        { meter: endpoint.meter, readings: result.stored },
        "readings stored and acknowledged",
      );
    this.#reconcile(key, result.status);
    if (p.outbox.next(key) !== undefined) p.workers.push("deliver", key);
  }

  /** Sends a meter the settings it reports differently, unless a command for them is on its way. */
  #reconcile(meter: string, status: AgentStatus): void {
    const { outbox, settings } = this.#require();
    const resend = settingsToResend(status, {
      demandReduction: settings.demandReduction,
      dataIntervalSeconds: settings.dataIntervalSeconds,
      billingRates: settings.billingRates,
    }).filter((command) => outbox.pendingInSlot(meter, slotOf(command)) === undefined);
    for (const command of resend) {
      this.#logger.info({ meter, command: command.command }, "the meter's setting differs; sending it again");
      this.#enqueue([meter], command);
    }
  }

  /**
   * Manage_energy_distribution (seed 000 §2.1.2), after each round of battery reports. A report
   * older than a few intervals is not acted on: the meter has not been heard from.
   */
  #manageEnergyDistribution(): void {
    try {
      const { store, outbox } = this.#require();
      const now = this.#clock.now();
      const staleMs = STALE_AFTER_INTERVALS * this.#intervalSeconds() * 1000;
      const views: BatteryMeterView[] = [...this.#meters.entries()]
        .filter(([, m]) => m.battery)
        .map(([key, m]) => {
          const s = store.meterState(key);
          const fresh = s.batteryReportedMs !== null && now - s.batteryReportedMs <= staleMs;
          const pending = outbox.pendingInSlot(key, "share_power");
          return {
            meter: key,
            threshold: m.batteryThreshold,
            stateOfCharge: fresh ? s.batteryPercent : null,
            sharing: pending === undefined ? s.sharingPower : pending.command.command === "share_power_on",
          };
        });
      const decision = decideSharing(views);
      for (const { meter, batteryThreshold } of decision.on)
        this.#enqueue([meter], { command: "share_power_on", params: { batteryThreshold } });
      if (decision.off.length > 0) this.#enqueue(decision.off, { command: "share_power_off", params: {} });
      if (decision.on.length > 0 || decision.off.length > 0) {
        this.#logger.info(
          { on: decision.on.map((d) => d.meter), off: decision.off },
          decision.on.length > 0
            ? "a battery is below its threshold: sharing power"
            : "no battery needs power: sharing stops",
        );
      }
    } catch (err) {
      this.#logger.error({ err }, "managing the energy distribution failed");
    }
  }

  /** Process_utility_commands: stored first, then queued for every meter where it applies. */
  #processUtilityCommand(command: ControllerCommand): ControllerCommandResponse {
    const { store, settings, workers, ticks } = this.#require();
    const all = [...this.#meters.keys()];
    const forwardedTo = store.transaction(() => {
      switch (command.command) {
        case "put_billing_rates":
          settings.putBillingRates(command.params);
          return this.#enqueue(all, command, false);
        case "reduce_power_demand_on":
        case "reduce_power_demand_off":
          settings.utilityDemandReduction = command.command === "reduce_power_demand_on";
          return this.#forwardDemandReduction(false);
        case "set_data_interval":
          settings.dataIntervalSeconds = command.params.seconds;
          return this.#enqueue(all, command, false);
        case "set_grid_supply":
          settings.gridSupplyFraction = command.params.fraction;
          return 0;
      }
    });
    // Sent only once committed, so no meter acts on a command the controller could still forget.
    if (forwardedTo > 0) for (const meter of all) workers.push("deliver", meter);
    if (command.command === "set_data_interval") ticks.reschedule();
    this.#logger.info(
      { command: command.command, params: command.params, forwardedTo },
      "utility command processed",
    );
    return { controllerId: this.#config.controllerId, command: command.command, forwardedTo };
  }

  /** Queues the demand reduction now in force (see ControllerSettings.demandReduction) for every meter. */
  #forwardDemandReduction(push = true): number {
    const on = this.#require().settings.demandReduction;
    return this.#enqueue(
      [...this.#meters.keys()],
      { command: on ? "reduce_power_demand_on" : "reduce_power_demand_off", params: {} },
      push,
    );
  }

  /** Queues `command` for `meters` and, unless told not to, starts delivering it. */
  #enqueue(meters: readonly string[], command: ForwardedCommand, push = true): number {
    const { outbox, workers } = this.#require();
    const queued = outbox.enqueue(meters, command, this.#clock.now());
    if (push) for (const meter of meters) workers.push("deliver", meter.toLowerCase());
    return queued;
  }

  #intervalSeconds(): number {
    return this.#require().settings.dataIntervalSeconds;
  }

  #endpoint(key: string): MeterEndpoint {
    const m = this.#meters.get(key);
    if (m === undefined) throw new Error(`meter ${key} is not configured`);
    return { meter: m.meter, url: m.url };
  }

  #require(): ControllerParts {
    if (this.#parts === undefined) throw new Error("the controller is not started");
    return this.#parts;
  }
}
