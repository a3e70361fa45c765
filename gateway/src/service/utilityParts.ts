import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../common/logger.js";
import type { SignerRecovery } from "../relay/signerRecovery.js";
import type { Database } from "../store/index.js";
import { configureBilling, createDueBills, sendBillingRates } from "../utility/billing/index.js";
import { ClockLoops, type ClockLoopStatus, every } from "../utility/common/clockLoops.js";
import { loadFleet } from "../utility/fleet/fleetFile.js";
import { createSupplyManager, type SupplyConfig, type SupplyManager } from "../utility/supply/index.js";
import { loadSupplyConfig } from "../utility/supply/index.js";
import { loadUtilityConfig, utilityClock, type UtilityConfig } from "../utility/utilityConfig.js";
import { ConfigError } from "../common/errors.js";
import { UtilityService, type UtilityStatus } from "../utility/utilityService.js";
import { UtilityLease, type LeaseState, type UtilityLeaseOptions } from "../utility/lease/utilityLease.js";
import { HOUR_MS } from "../microgrid/controllerApi.js";

export interface UtilityPartsConfig {
  utility: UtilityConfig;
  /** Without a feed there is no supply management (no purchasing, no routing). */
  supply?: SupplyConfig | undefined;
  /** IANA zone of the billing calendar and the peak hours. */
  billingTimeZone: string;
  /** The market's interval length: P2P fills are known by interval index only. */
  marketIntervalSeconds: number;
}

/** The utility's part as configured, before the market (if any) tells its interval length. */
export type UtilityPartsSetup = Omit<UtilityPartsConfig, "marketIntervalSeconds"> & { clock: Clock };

/**
 * Reads the utility's configuration from the environment: undefined without a fleet
 * (GRIDMESH_UTILITY_FLEET); every problem of every part reported at once.
 */
export function loadUtilityPartsSetup(
  env: Record<string, string | undefined>,
): UtilityPartsSetup | undefined {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
      return undefined;
    }
  };
  const utility = attempt(() => loadUtilityConfig(env));
  const supply = attempt(() => loadSupplyConfig(env));
  if (problems.length > 0) throw new ConfigError(problems);
  if (utility === undefined) return undefined;
  return {
    utility,
    supply,
    billingTimeZone: env.GRIDMESH_BILLING_TIME_ZONE ?? "UTC",
    clock: utilityClock(utility),
  };
}

export interface UtilityPartsStatus {
  /** Whether this process does the utility's work or stands by for the one that holds the lease. */
  lease: LeaseState;
  data: UtilityStatus;
  supply: unknown;
  billing: ClockLoopStatus[];
}

/**
 * The utility's side of seed 000 §2.2 in one place: data management (UtilityService), supply and
 * priorities (SupplyManager) and billing's monthly work (Create_bills on the first day, once the
 * month's data is complete; Send_billing_rates each month). The gateway runs it beside the market
 * when a fleet is configured; `utilityMain.ts` runs it alone.
 */
export class UtilityParts {
  readonly service: UtilityService;
  readonly supply: SupplyManager | undefined;
  readonly lease: UtilityLease;
  readonly #billing: ClockLoops;

  private constructor(
    service: UtilityService,
    supply: SupplyManager | undefined,
    billing: ClockLoops,
    lease: Omit<UtilityLeaseOptions, "onAcquired" | "onLost">,
  ) {
    this.service = service;
    this.supply = supply;
    this.#billing = billing;
    this.lease = new UtilityLease({
      ...lease,
      onAcquired: () => this.#work(),
      onLost: () => this.#standBy(),
    });
  }

  static async create(p: {
    db: Database;
    config: UtilityPartsConfig;
    clock: Clock;
    logger: Logger;
    recovery?: SignerRecovery;
  }): Promise<UtilityParts> {
    const { db, config, clock, logger } = p;
    await configureBilling(db, {
      timeZone: config.billingTimeZone,
      intervalSeconds: config.marketIntervalSeconds,
    });
    const fleet = await loadFleet(config.utility.fleetFile);
    const service = await UtilityService.create({
      db,
      config: config.utility,
      fleet,
      clock,
      logger,
      ...(p.recovery !== undefined && { recovery: p.recovery }),
    });
    const supply =
      config.supply === undefined
        ? undefined
        : await createSupplyManager({
            db,
            config: config.supply,
            clock,
            logger: logger.child({ part: "supply" }),
          });
    const billingLog = logger.child({ part: "billing" });
    const billing = new ClockLoops(clock, billingLog);
    // Hourly rather than once on the 1st: a month whose data is still incomplete (a storm's backlog)
    // is refused and tried again the next hour, and the rates of a month set late still go out.
    billing.add({
      name: "create-bills",
      nextAt: every(HOUR_MS, 5 * 60_000),
      runAtStart: true,
      run: () => createDueBills({ db, clock, logger: billingLog }),
    });
    billing.add({
      name: "send-billing-rates",
      nextAt: every(HOUR_MS, 5 * 60_000),
      runAtStart: true,
      run: () => sendBillingRates({ db, clock }),
    });
    const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    return new UtilityParts(service, supply, billing, {
      db,
      holder,
      ...config.utility.lease,
      takeOver: db.engine === "pglite",
      logger: logger.child({ part: "utility-lease" }),
    });
  }

  /** Works once this process holds the utility lease; until then (or after losing it) stands by. */
  start(): void {
    this.lease.start();
  }

  async stop(): Promise<void> {
    await this.lease.stop();
    await this.service.stop();
  }

  #work(): void {
    this.service.start();
    this.supply?.start();
    this.#billing.start();
  }

  async #standBy(): Promise<void> {
    await Promise.all([this.#billing.stop(), this.supply?.stop()]);
    await this.service.pause();
  }

  async status(): Promise<UtilityPartsStatus> {
    return {
      lease: this.lease.state,
      data: await this.service.status(),
      supply: this.supply === undefined ? null : this.supply.status(),
      billing: this.#billing.status(),
    };
  }
}
