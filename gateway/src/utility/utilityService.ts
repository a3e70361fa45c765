import { type Clock, deliveryLedgerDomain, meterReadingTypes, mutableTypes } from "@gridmesh/contracts";

import type { Logger } from "../common/logger.js";
import { HOUR_MS } from "../microgrid/controllerApi.js";
import { inlineSignerRecovery, type SignerRecovery, workerSignerRecovery } from "../relay/signerRecovery.js";
import type { Database } from "../store/index.js";
import { CommandDelivery, type DeliveryResult } from "./commands/commandOutbox.js";
import { ClockLoops, type ClockLoopStatus, every } from "./common/clockLoops.js";
import { mapBounded } from "./common/mapBounded.js";
import { ControllerClient } from "./controllers/controllerClient.js";
import { applyFleet, type ApplyFleetResult } from "./fleet/applyFleet.js";
import type { Fleet } from "./fleet/fleetFile.js";
import { failedRequestQueue } from "./polling/failedRequestQueue.js";
import { type CollectOutcome, HourCollector } from "./polling/hourCollector.js";
import { queryData, type QueryDataResult } from "./polling/queryData.js";
import { type ControllerRecovery, planRecovery, type RecoveryOptions } from "./polling/recoverData.js";
import { applyRetention, type RetentionResult } from "./retention.js";
import { computeStatistics, type MonthStatistics } from "./statistics/computeStatistics.js";
import { DAY_MS } from "./statistics/utcMonths.js";
import type { UtilityConfig } from "./utilityConfig.js";

export interface UtilityServiceParameters {
  db: Database;
  config: UtilityConfig;
  fleet: Fleet;
  clock: Clock;
  logger: Logger;
  /** Where reading signatures are recovered; by default as config.signatureWorkers says (closed by stop). */
  recovery?: SignerRecovery;
  /** Let the fleet lower initial base bills (applyFleet). */
  allowLowerBaseBills?: boolean;
}

export interface UtilityStatus {
  loops: ClockLoopStatus[];
  failedRequests: number;
  recoveryQueued: number;
  unacknowledgedHours: number;
  pendingCommands: number;
}

/**
 * The utility's data management (seed 000 §2.2.2) as one process part: it applies the fleet, then
 * runs on the utility's Clock
 * - Query_data every hour (after `queryDelayMs`), and at start, which also queues missed hours;
 * - Remake_failed_requests every second: one queued hour started per tick (oldest due first), at
 *   most `polling.concurrency` in flight so a slow controller cannot stall the others;
 * - the recovery drain: hours queued by Recover_data, `recovery.concurrency` at a time;
 * - acknowledgements left over from failed acks, and the command outbox;
 * - Compute_statistics and retention once a day.
 * Each step is also a method, so tests and tools drive it without the loops.
 */
export class UtilityService {
  readonly collector: HourCollector;
  readonly commands: CommandDelivery;
  readonly fleetApplied: ApplyFleetResult;
  readonly #p: UtilityServiceParameters;
  readonly #recovery: SignerRecovery;
  readonly #ownsRecovery: boolean;
  readonly #loops: ClockLoops;
  readonly #remakes = new Set<Promise<unknown>>();
  #draining: Promise<unknown> | undefined;

  private constructor(p: UtilityServiceParameters, fleetApplied: ApplyFleetResult) {
    this.#p = p;
    this.fleetApplied = fleetApplied;
    const { config, clock, logger, db } = p;
    const domain = deliveryLedgerDomain(config.readings.chainId, config.readings.deliveryLedger);
    const types = mutableTypes(meterReadingTypes);
    this.#ownsRecovery = p.recovery === undefined;
    this.#recovery =
      p.recovery ??
      (config.signatureWorkers === 0
        ? inlineSignerRecovery(domain, types)
        : workerSignerRecovery(domain, types, config.signatureWorkers));
    const clients = new Map(
      p.fleet.controllers.map((c) => [
        c.id,
        new ControllerClient({
          controllerId: c.id,
          url: c.url,
          tokenFile: c.tokenFile,
          timeoutMs: config.polling.requestTimeoutMs,
        }),
      ]),
    );
    this.collector = new HourCollector({
      db,
      clients,
      recovery: this.#recovery,
      intervalSeconds: config.readings.intervalSeconds,
      clock,
      logger: logger.child({ part: "utility-polling" }),
    });
    this.commands = new CommandDelivery({
      db,
      clients,
      clock,
      logger: logger.child({ part: "utility-commands" }),
      concurrency: config.polling.concurrency,
      backoffMaxMs: config.commands.backoffMaxMs,
    });
    this.#loops = new ClockLoops(clock, logger.child({ part: "utility" }), {
      minWallGapMs: config.minLoopGapMs,
    });
    this.#defineLoops();
  }

  /** Applies the fleet to the CIDB (one transaction) and prepares the loops; start() runs them. */
  static async create(p: UtilityServiceParameters): Promise<UtilityService> {
    const applied = await applyFleet(p.db, p.fleet, {
      now: p.clock.now(),
      allowLowerBaseBills: p.allowLowerBaseBills ?? false,
      logger: p.logger.child({ part: "utility-fleet" }),
    });
    return new UtilityService(p, applied);
  }

  /** Runs the loops; Query_data runs at once, catching up on any hour missed while stopped. */
  start(): void {
    this.#loops.start();
    this.#p.logger.info(
      { controllers: this.collector.controllerIds.length, at: new Date(this.#p.clock.now()).toISOString() },
      "utility started",
    );
  }

  /** Stops the loops and waits for the work in flight; start() runs them again. */
  async pause(): Promise<void> {
    await this.#loops.stop();
    await Promise.allSettled([...this.#remakes, this.#draining]);
  }

  async stop(): Promise<void> {
    await this.pause();
    if (this.#ownsRecovery) await this.#recovery.close();
    this.#p.logger.info("utility stopped");
  }

  /** Query_data for the last hour completed at `now`, after queuing any hour missed before it. */
  queryData(now = this.#p.clock.now()): Promise<QueryDataResult> {
    return queryData(this.collector, this.#p.db, { now, concurrency: this.#p.config.polling.concurrency });
  }

  /** Remake_failed_requests, one step: the oldest due failed or missed hour, remade and awaited. */
  async remakeOnce(): Promise<CollectOutcome | undefined> {
    const next = await this.#nextToRemake();
    return next === undefined ? undefined : this.collector.collect(next.controllerId, next.hour);
  }

  /** The oldest failed or missed hour due again and not being fetched (recovery hours aside). */
  async #nextToRemake() {
    const [next] = await failedRequestQueue.due(this.#p.db, {
      now: this.#p.clock.now(),
      backoff: this.#backoff(),
      recovery: false,
      limit: 1,
      skip: this.collector.inFlight,
    });
    return next;
  }

  /** Recover_data: asks the controllers which hours they hold and queues what the CIDB lacks. */
  recover(options: Omit<RecoveryOptions, "now"> = {}): Promise<ControllerRecovery[]> {
    return planRecovery(this.collector, this.#p.db, {
      ...options,
      weeks: options.weeks ?? this.#p.config.recovery.weeks,
      now: this.#p.clock.now(),
      concurrency: this.#p.config.polling.concurrency,
    });
  }

  /** Collects every due recovery hour, `recovery.concurrency` at a time, until none is due. */
  async drainRecovery(): Promise<{ stored: number; failed: number }> {
    const concurrency = this.#p.config.recovery.concurrency;
    const total = { stored: 0, failed: 0 };
    for (;;) {
      const due = await failedRequestQueue.due(this.#p.db, {
        now: this.#p.clock.now(),
        backoff: this.#backoff(),
        recovery: true,
        limit: concurrency * 4,
        skip: this.collector.inFlight,
      });
      if (due.length === 0) return total;
      const outcomes = await mapBounded(due, concurrency, (r) =>
        this.collector.collect(r.controllerId, r.hour),
      );
      total.stored += outcomes.filter((o) => o.status === "stored").length;
      total.failed += outcomes.filter((o) => o.status === "failed").length;
    }
  }

  acknowledgePending(): Promise<{ acknowledged: number; failed: number }> {
    return this.collector.acknowledgePending();
  }

  deliverCommands(): Promise<DeliveryResult> {
    return this.commands.deliverOnce();
  }

  computeStatistics(now = this.#p.clock.now()): Promise<MonthStatistics[]> {
    return computeStatistics(this.#p.db, { now });
  }

  applyRetention(now = this.#p.clock.now()): Promise<RetentionResult> {
    const { months, batchSize } = this.#p.config.retention;
    return applyRetention(this.#p.db, { now, months, batchSize });
  }

  async status(): Promise<UtilityStatus> {
    const { rows } = await this.#p.db.query<{
      failed: string;
      recovery: string;
      unacknowledged: string;
      pending: string;
    }>(
      `SELECT (SELECT count(*) FROM failed_requests WHERE reason <> 'recovery')::text AS failed,
              (SELECT count(*) FROM failed_requests WHERE reason = 'recovery')::text AS recovery,
              (SELECT count(*) FROM usage_hours WHERE NOT acknowledged)::text AS unacknowledged,
              (SELECT count(*) FROM controller_commands WHERE status = 'pending')::text AS pending`,
    );
    const r = rows[0]!;
    return {
      loops: this.#loops.status(),
      failedRequests: Number(r.failed),
      recoveryQueued: Number(r.recovery),
      unacknowledgedHours: Number(r.unacknowledged),
      pendingCommands: Number(r.pending),
    };
  }

  /** One remake started per tick, not awaited: a controller timing out must not hold the queue. */
  async #remakeTick(): Promise<unknown> {
    if (this.#remakes.size >= this.#p.config.polling.concurrency)
      return { started: null, inFlight: this.#remakes.size };
    const next = await this.#nextToRemake();
    if (next === undefined) return { started: null, inFlight: this.#remakes.size };
    const remake = this.collector
      .collect(next.controllerId, next.hour)
      .catch((error: unknown) =>
        this.#p.logger.warn(
          { controllerId: next.controllerId, hour: next.hour, err: error },
          "remaking a request failed",
        ),
      )
      .finally(() => this.#remakes.delete(remake));
    this.#remakes.add(remake);
    return { started: `${next.controllerId}/${next.hour}`, inFlight: this.#remakes.size };
  }

  #drainTick(): Promise<unknown> {
    this.#draining ??= this.drainRecovery()
      .catch((error: unknown) =>
        this.#p.logger.warn({ err: error }, "recovery drain failed; it resumes next tick"),
      )
      .finally(() => (this.#draining = undefined));
    return Promise.resolve({ draining: true });
  }

  /** The schedule `start` runs: every period is on the utility's Clock. */
  #defineLoops(): void {
    const { config } = this.#p;
    const loops = this.#loops;
    loops.add({
      name: "query-data",
      nextAt: every(HOUR_MS, config.polling.queryDelayMs),
      run: () => this.queryData(),
      runAtStart: true,
    });
    loops.add({
      name: "remake-failed-requests",
      nextAt: every(config.failedRequests.periodMs),
      run: () => this.#remakeTick(),
    });
    loops.add({
      name: "recovery",
      nextAt: every(config.failedRequests.periodMs),
      run: () => this.#drainTick(),
    });
    loops.add({
      name: "acknowledge",
      nextAt: every(config.acknowledgePeriodMs),
      run: () => this.acknowledgePending(),
    });
    loops.add({
      name: "commands",
      nextAt: every(config.commands.periodMs),
      run: () => this.deliverCommands(),
      runAtStart: true,
    });
    loops.add({
      name: "statistics",
      nextAt: every(DAY_MS, config.statisticsAtMinute * 60_000),
      run: () => this.computeStatistics(),
    });
    loops.add({
      name: "retention",
      nextAt: every(DAY_MS, config.retention.atMinute * 60_000),
      run: () => this.applyRetention(),
    });
  }

  #backoff() {
    return {
      baseMs: this.#p.config.failedRequests.backoffBaseMs,
      maxMs: this.#p.config.failedRequests.backoffMaxMs,
    };
  }
}
