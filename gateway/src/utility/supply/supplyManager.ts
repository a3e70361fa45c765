import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import type { Database } from "../../store/index.js";
import { ClockLoops } from "../common/clockLoops.js";
import { billingRatesPeakHours } from "./billingPeakHours.js";
import { isPeakAt, type PeakHours, type PeakHoursSource } from "./peakHours.js";
import { decidePurchase, type PurchaseReason } from "./purchasePolicy.js";
import type { RegionalGrid } from "./regionalGrid.js";
import { reconcileRouting, type EnqueuedCommand } from "./routingDecisions.js";
import type { SupplyConfig } from "./supplyConfig.js";
import type { SupplyStatus } from "./supplyStatus.js";
import {
  effectiveStatus,
  lockSupplyState,
  recordFeedAnswer,
  recordFeedFailure,
  recordRound,
} from "./supplyStatusStore.js";
import { chargeBattery, drainBySuppliedEnergy, ensureBattery, fractionOfWh } from "./utilityBattery.js";

export interface SupplyManagerParameters {
  db: Database;
  grid: RegionalGrid;
  config: SupplyConfig;
  clock: Clock;
  logger: Logger;
  /** Where peak hours come from; by default the month's billing rates, else the configured hours. */
  peakHours?: PeakHoursSource;
}

/** What one Purchase_power round did. */
export interface SupplyRoundResult {
  atMs: number;
  /** The status acted on (an override first, else the feed's last answer); null before any is known. */
  status: SupplyStatus | null;
  feed: { ok: true; status: SupplyStatus } | { ok: false; error: string };
  peak: boolean;
  peakHours: PeakHours;
  /** Newly arrived meter records charged to the battery this round. */
  supplied: { hours: number; netImportWh: bigint };
  purchase:
    | { reason: PurchaseReason; requestedWh: bigint; grantedWh: bigint }
    | { reason: PurchaseReason; requestedWh: bigint; error: string }
    | null;
  battery: { capacityWh: bigint; chargeWh: bigint };
  commands: EnqueuedCommand[];
}

/**
 * Seed 000's Purchase_power with the supply priorities (§2.2.3). Every round, on the utility's Clock:
 * drain the battery by what the microgrids were supplied, buy from the regional grid (off peak to
 * keep the battery full; in peak hours only when it is critically low), learn the grid's supply
 * status from its answer (asking for it when nothing was bought), and route power by that status —
 * demand reduction and grid shares sent to the controllers only when they change.
 *
 * A failing feed keeps the last known status and is recorded; the round after it asks again.
 */
export class SupplyManager {
  readonly #db: Database;
  readonly #grid: RegionalGrid;
  readonly #config: SupplyConfig;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #peakHours: PeakHoursSource;
  #prepared = false;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #loops: ClockLoops;
  #last: SupplyRoundResult | undefined;

  constructor({ db, grid, config, clock, logger, peakHours }: SupplyManagerParameters) {
    this.#db = db;
    this.#grid = grid;
    this.#config = config;
    this.#clock = clock;
    this.#logger = logger.child({ component: "supply" });
    this.#peakHours = peakHours ?? billingRatesPeakHours({ ...config.peakHours, timeZone: config.timeZone });
    // A round now and then one every period after the last was due; a late round is not made up.
    const periodMs = config.purchase.everySeconds * 1000;
    let lastDue = -Infinity;
    this.#loops = new ClockLoops(clock, this.#logger);
    this.#loops.add({
      name: "purchase-power",
      runAtStart: true,
      nextAt: (nowMs) => Math.max(lastDue + periodMs, nowMs),
      run: (dueMs) => {
        lastDue = dueMs;
        return this.runOnce(dueMs);
      },
    });
  }

  /** Runs a round now and then every `purchase.everySeconds` of the Clock's time until `stop`. */
  start(): void {
    this.#loops.start();
  }

  stop(): Promise<void> {
    return this.#loops.stop();
  }

  /** The last round and whether the loop is healthy, for the operator status. */
  status(): { lastRound: SupplyRoundResult | null; lastError: string | null; source: string } {
    const [loop] = this.#loops.status();
    return { lastRound: this.#last ?? null, lastError: loop?.lastError ?? null, source: this.#grid.source };
  }

  /** One round at `atMs` (the Clock's now by default). Rounds never overlap. */
  runOnce(atMs: number = this.#clock.now()): Promise<SupplyRoundResult> {
    const run = this.#queue.then(() => this.#round(atMs));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #round(atMs: number): Promise<SupplyRoundResult> {
    const config = this.#config;
    if (!this.#prepared) {
      await this.#db.transaction((tx) =>
        ensureBattery(tx, {
          capacityWh: config.battery.capacityWh,
          initialChargeWh: config.battery.initialChargeWh ?? config.battery.capacityWh,
          criticalWh: fractionOfWh(config.battery.capacityWh, config.purchase.criticalFraction),
          atMs,
        }),
      );
      this.#prepared = true;
    }
    const drained = await this.#db.transaction((tx) =>
      drainBySuppliedEnergy(tx, { atMs, lookbackHours: config.accountingLookbackHours }),
    );
    const peakHours = await this.#peakHours(this.#db, atMs);
    const peak = isPeakAt(atMs, peakHours);
    const decision = decidePurchase({
      capacityWh: drained.battery.capacityWh,
      chargeWh: drained.battery.chargeWh,
      criticalWh: drained.battery.criticalWh,
      peak,
      maxPurchaseWh: config.purchase.maxPurchaseWh,
    });

    // The grid is asked outside any transaction: a slow feed must not hold the store's locks.
    let feed: SupplyRoundResult["feed"];
    let granted: bigint | undefined;
    try {
      if (decision.reason !== undefined) {
        const answer = await this.#grid.purchase(decision.wh);
        granted = answer.grantedWh;
        feed = { ok: true, status: answer.supply };
      } else {
        feed = { ok: true, status: await this.#grid.status() };
      }
    } catch (error) {
      feed = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }

    const outcome = await this.#db.transaction(async (tx) => {
      let state = await lockSupplyState(tx);
      const before = effectiveStatus(state);
      let battery = drained.battery;
      let purchase: SupplyRoundResult["purchase"] = null;
      if (decision.reason !== undefined) {
        const chargeBefore = battery.chargeWh;
        if (granted !== undefined && granted > 0n) battery = await chargeBattery(tx, granted, atMs);
        purchase = feed.ok
          ? { reason: decision.reason, requestedWh: decision.wh, grantedWh: granted ?? 0n }
          : { reason: decision.reason, requestedWh: decision.wh, error: feed.error };
        await tx.query(
          `INSERT INTO supply_purchases (at, peak, reason, requested_wh, granted_wh, supply_status,
             charge_before_wh, charge_after_wh, error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            new Date(atMs),
            peak,
            decision.reason,
            decision.wh,
            granted ?? 0n,
            feed.ok ? feed.status : null,
            chargeBefore,
            battery.chargeWh,
            feed.ok ? null : feed.error,
          ],
        );
      }
      await recordRound(tx, { atMs, peak, peakHours });
      const failuresBefore = state.feedFailures;
      state = feed.ok
        ? await recordFeedAnswer(tx, state, { source: this.#grid.source, status: feed.status, atMs })
        : await recordFeedFailure(tx, state, { source: this.#grid.source, error: feed.error, atMs });
      const status = effectiveStatus(state);
      const commands = await reconcileRouting(tx, status, atMs);
      return { battery, purchase, status, before, failuresBefore, commands };
    });

    const result: SupplyRoundResult = {
      atMs,
      status: outcome.status,
      feed,
      peak,
      peakHours,
      supplied: { hours: drained.hours, netImportWh: drained.netImportWh },
      purchase: outcome.purchase,
      battery: { capacityWh: outcome.battery.capacityWh, chargeWh: outcome.battery.chargeWh },
      commands: outcome.commands,
    };
    this.#last = result;
    this.#log(result, outcome.before, outcome.failuresBefore);
    return result;
  }

  #log(result: SupplyRoundResult, before: SupplyStatus | null, failuresBefore: number): void {
    const log = this.#logger;
    if (!result.feed.ok) {
      // The first failure of an outage is news; the rest are in the status and at debug level.
      const level = failuresBefore === 0 ? "warn" : "debug";
      log[level](
        { source: this.#grid.source, error: result.feed.error, keptStatus: result.status },
        "regional grid feed failed; keeping the last known supply status",
      );
    } else if (failuresBefore > 0) {
      log.info({ source: this.#grid.source, failures: failuresBefore }, "regional grid feed answers again");
    }
    if (result.status !== before) {
      log.info({ from: before, to: result.status }, "supply status changed");
    }
    // A failed purchase is already told by the feed's failure above, and recorded in the history.
    if (result.purchase !== null && "grantedWh" in result.purchase) {
      log.info(
        {
          reason: result.purchase.reason,
          peak: result.peak,
          requestedWh: result.purchase.requestedWh.toString(),
          grantedWh: result.purchase.grantedWh.toString(),
          chargeWh: result.battery.chargeWh.toString(),
        },
        "bought power from the regional grid for the utility's battery",
      );
    }
    if (result.commands.length > 0) {
      log.info(
        { commands: result.commands.map((c) => `${c.controllerId}:${c.command}`), status: result.status },
        "queued supply commands for controllers",
      );
    }
  }
}
