import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";

import type { Signer } from "ethers";
import type { Logger } from "pino";

import type { Clock } from "@gridmesh/contracts";

import type { ControllerCommand, ControllerCommandResponse, ControllerStatus } from "./controllerApi.js";
import type { ControllerConfig, MeterConfig } from "./controllerConfig.js";
import { ControllerServer } from "./controllerServer.js";
import { ControllerSettings } from "./controllerSettings.js";
import { ControllerStore } from "./controllerStore.js";
import { MeterLink } from "./meterLink.js";
import { MeterOutbox } from "./meterOutbox.js";
import { MeterPolling } from "./meterPolling.js";
import { PeriodicTask } from "./periodicTask.js";
import { RequestStack, type MeterRequest } from "./requestStack.js";
import { RequestWorkers } from "./requestWorkers.js";
import { UsageFiles } from "./usageFiles.js";
import { UtilityWatch } from "./utilityWatch.js";

const DAY_MS = 86_400_000;

/** Everything a running controller is made of. */
export interface ControllerParts {
  db: DatabaseSync;
  store: ControllerStore;
  settings: ControllerSettings;
  outbox: MeterOutbox;
  usage: UsageFiles;
  stack: RequestStack;
  link: MeterLink;
  polling: MeterPolling;
  workers: RequestWorkers;
  server: ControllerServer;
  watch: UtilityWatch;
  /** Query_meter_data, every Data_Time_Interval. */
  ticks: PeriodicTask;
  /** Garbage_collect, daily. */
  gc: PeriodicTask;
}

export interface ControllerPartsDeps {
  config: ControllerConfig;
  meters: readonly MeterConfig[];
  db: DatabaseSync;
  signer: Pick<Signer, "signTypedData">;
  clock: Clock;
  commandClock: Clock;
  logger: Logger;
  /** Aborts requests in flight when the controller stops. */
  signal: AbortSignal;
}

/** What the parts call back into the controller for. */
export interface ControllerHooks {
  run(request: MeterRequest): Promise<void>;
  roundDone(): void;
  command(command: ControllerCommand): ControllerCommandResponse;
  status(): ControllerStatus;
  utilityContact(): void;
  offlineChanged(offline: boolean): void;
  queryMeterData(): void;
  collectGarbage(): Promise<unknown>;
}

/**
 * Opens the controller's state (database, usage files, repairs after a crash) and builds its
 * processes, started by the controller once it is listening.
 */
export async function openControllerParts(
  deps: ControllerPartsDeps,
  hooks: ControllerHooks,
): Promise<ControllerParts> {
  const { config, db, clock, logger, signal } = deps;
  const store = new ControllerStore(db);
  const outbox = new MeterOutbox(db);
  const usage = await UsageFiles.open({ dir: join(config.dataDir, "usage"), db, clock, logger });
  for (const m of deps.meters) {
    store.addMeter(m.meter, m.battery ? m.batteryThreshold : null);
    // Readings fsynced just before a crash may be in a file but not yet recorded as stored.
    const found = usage.recoveredSequences.get(m.meter.toLowerCase()) ?? 0n;
    const { storedThrough, acknowledgedThrough } = store.meterState(m.meter);
    if (found > storedThrough) {
      store.setSequences(m.meter, found, acknowledgedThrough);
      logger.warn(
        { meter: m.meter, storedThrough: found.toString() },
        "recovered stored readings after a crash",
      );
    }
  }
  const settings = new ControllerSettings(store, config.dataIntervalSeconds);
  const intervalMs = () => settings.dataIntervalSeconds * 1000;

  const stack = new RequestStack();
  const link = new MeterLink({
    signer: deps.signer,
    chainId: BigInt(config.chainId),
    nonces: store,
    clock: deps.commandClock,
    lifetimeSeconds: config.polling.commandLifetimeSeconds,
    timeoutMs: config.polling.requestTimeoutMs,
    signal,
  });
  const polling = new MeterPolling({ link, store, usage, clock, pageSize: config.polling.pageSize, logger });
  const workers = new RequestWorkers({
    stack,
    clock,
    concurrency: config.polling.concurrency,
    run: (request) => hooks.run(request),
    // Doubling from the configured delay, never longer than an interval: a meter back from an
    // outage is polled within one.
    retryDelayMs: (failures) =>
      Math.min(config.polling.retryDelayMs * 2 ** Math.min(failures - 1, 30), intervalMs()),
    onFailure: (request, err) => {
      if (signal.aborted) return;
      // A meter down for hours fails every interval: warn at the 1st, 2nd, 4th, 8th… failure.
      const failures = request.failures + 1;
      const level = (failures & (failures - 1)) === 0 ? "warn" : "debug";
      logger[level](
        { request: request.kind, meter: request.meter, failures, err },
        "meter request failed; it will be retried",
      );
    },
    onRoundDone: () => hooks.roundDone(),
  });
  const server = new ControllerServer({
    controllerId: config.controllerId,
    tokenSha256: config.utility.tokenSha256,
    host: config.http.host,
    port: config.http.port,
    clock,
    usage,
    command: (command) => hooks.command(command),
    status: () => hooks.status(),
    onUtilityContact: () => hooks.utilityContact(),
    logger,
  });
  const watch = new UtilityWatch({
    healthUrl: config.utility.healthUrl,
    checkEveryMs: config.utility.checkEveryMs,
    offlineAfterMs: config.utility.offlineAfterMs,
    timeoutMs: config.utility.timeoutMs,
    clock,
    logger,
    offlineAtStart: settings.offlineDemandReduction,
    onOfflineChange: (offline) => {
      settings.offlineDemandReduction = offline;
      hooks.offlineChanged(offline);
    },
    signal,
  });
  const ticks = new PeriodicTask(
    "query meter data",
    clock,
    intervalMs,
    () => Promise.resolve(hooks.queryMeterData()),
    logger,
  );
  const gc = new PeriodicTask(
    "garbage collect",
    clock,
    () => DAY_MS,
    () => hooks.collectGarbage(),
    logger,
  );
  return { db, store, settings, outbox, usage, stack, link, polling, workers, server, watch, ticks, gc };
}
