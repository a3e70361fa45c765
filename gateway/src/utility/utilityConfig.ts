import { availableParallelism } from "node:os";

import { z } from "zod";

import { type Address, type Clock, configuredClock } from "@gridmesh/contracts";

import { ConfigError } from "../common/errors.js";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((a) => a as Address);
const ms = (max: number) => z.coerce.number().int().min(1).max(max);
const count = (max: number) => z.coerce.number().int().min(1).max(max);
const minuteOfDay = z.coerce.number().int().min(0).max(1439);

/**
 * The utility's data management (seed 000 §2.2.1–2.2.2): which fleet it polls, how readings are
 * verified, and the pace of its loops. Every duration is in the utility's Clock (simulated time in
 * demos and tests), so a scaled clock speeds the whole schedule up alike.
 */
export const utilityConfigSchema = z.object({
  /** The fleet file: controllers, their accounts and meters (utility/fleet/fleetFile.ts). */
  fleetFile: z.string().min(1),
  /** The EIP-712 domain readings are signed for and the length of one reading interval. */
  readings: z.object({
    chainId: z.coerce.bigint().min(1n, "must be a chain id"),
    deliveryLedger: address,
    intervalSeconds: count(86_400),
  }),
  polling: z
    .object({
      /** Controllers queried at once by Query_data and at most as many FRQ remakes in flight. */
      concurrency: count(256).default(8),
      requestTimeoutMs: ms(600_000).default(30_000),
      /** How long after an hour ends it is asked for: lets the controller's clock close the hour too. */
      queryDelayMs: z.coerce.number().int().min(0).max(3_599_000).default(10_000),
    })
    .prefault({}),
  failedRequests: z
    .object({
      /** Seed 000: one request remade every second. */
      periodMs: ms(3_600_000).default(1_000),
      /** A failed row waits base × 2^(attempts − 1), at most max, before it is remade again. */
      backoffBaseMs: ms(3_600_000).default(1_000),
      backoffMaxMs: ms(86_400_000).default(300_000),
    })
    .prefault({}),
  recovery: z
    .object({
      /** Hours re-requested at once while recovering. */
      concurrency: count(64).default(4),
      /** Controllers keep backups ten weeks (seed 000 §2.1): recovery never asks further back. */
      weeks: count(10).default(10),
    })
    .prefault({}),
  /** How often hours stored but not yet acknowledged to their controller are acknowledged again. */
  acknowledgePeriodMs: ms(86_400_000).default(60_000),
  commands: z
    .object({
      periodMs: ms(3_600_000).default(5_000),
      backoffMaxMs: ms(86_400_000).default(300_000),
    })
    .prefault({}),
  /**
   * Wall-clock ms any loop waits at least between two runs: on a fast simulated clock the
   * every-second loops would otherwise busy the store. Never binds at real speed.
   */
  minLoopGapMs: z.coerce.number().int().min(0).max(60_000).default(50),
  /**
   * Several utility processes may share one database: one holds the lease and works, the others
   * stand by. Wall-clock ms (leases are judged by the database's clock, not the simulated one).
   */
  lease: z
    .object({
      leaseMs: z.coerce.number().int().min(2_000).max(3_600_000).default(30_000),
      renewMs: z.coerce.number().int().min(500).max(1_800_000).default(10_000),
    })
    .refine((l) => l.renewMs * 2 <= l.leaseMs, {
      message: "renewMs must be at most half of leaseMs",
      path: ["renewMs"],
    })
    .prefault({}),
  /** Daily tasks run at this minute of the UTC day: after the midnight hour has been collected. */
  statisticsAtMinute: minuteOfDay.default(60),
  retention: z
    .object({
      // Above the ten weeks controllers keep backups: catch-up and recovery must never find a
      // deleted hour missing and fetch it again.
      months: z.coerce
        .number()
        .int()
        .min(3, "must be at least 3 (controllers keep ten weeks)")
        .max(120)
        .default(6),
      batchSize: count(1_000_000).default(10_000),
      atMinute: minuteOfDay.default(120),
    })
    .prefault({}),
  /** Threads recovering reading signatures; 0 recovers on the main thread. */
  signatureWorkers: z.coerce
    .number()
    .int()
    .min(0)
    .max(64)
    .default(() => Math.max(1, availableParallelism() - 1)),
  /** Simulated time: `speed` times the wall clock from `originMs`; real time when absent. */
  clock: z
    .object({ originMs: z.coerce.number().int().min(0), speed: z.coerce.number().positive().max(1e6) })
    .optional(),
});

export type UtilityConfig = z.output<typeof utilityConfigSchema>;
export type UtilityConfigInput = z.input<typeof utilityConfigSchema>;

/** The Clock the configuration asks for. */
export function utilityClock(config: Pick<UtilityConfig, "clock">): Clock {
  return configuredClock(config.clock);
}

/** Validates a configuration given as an object (tests, tools), naming every bad field at once. */
export function parseUtilityConfig(input: UtilityConfigInput): UtilityConfig {
  const parsed = utilityConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`));
  }
  return parsed.data;
}

const envNames = {
  fleetFile: "GRIDMESH_UTILITY_FLEET",
  "readings.chainId": "GRIDMESH_CHAIN_ID",
  "readings.deliveryLedger": "GRIDMESH_DELIVERY_LEDGER",
  "readings.intervalSeconds": "GRIDMESH_READING_INTERVAL_SECONDS",
  "polling.concurrency": "GRIDMESH_UTILITY_CONCURRENCY",
  "polling.requestTimeoutMs": "GRIDMESH_UTILITY_REQUEST_TIMEOUT_MS",
  "failedRequests.periodMs": "GRIDMESH_UTILITY_FAILED_REQUEST_PERIOD_MS",
  "commands.periodMs": "GRIDMESH_UTILITY_COMMAND_PERIOD_MS",
  minLoopGapMs: "GRIDMESH_UTILITY_MIN_LOOP_GAP_MS",
  "lease.leaseMs": "GRIDMESH_UTILITY_LEASE_MS",
  "lease.renewMs": "GRIDMESH_UTILITY_LEASE_RENEW_MS",
  "recovery.concurrency": "GRIDMESH_UTILITY_RECOVERY_CONCURRENCY",
  "retention.months": "GRIDMESH_UTILITY_RETENTION_MONTHS",
  signatureWorkers: "GRIDMESH_UTILITY_SIGNATURE_WORKERS",
  "clock.originMs": "GRIDMESH_CLOCK_ORIGIN_MS",
  "clock.speed": "GRIDMESH_CLOCK_SPEED",
} as const;

/**
 * The utility's configuration from the environment, or undefined when no fleet file is set (this
 * gateway then runs no utility loops). Problems are reported by variable name, all at once.
 */
export function loadUtilityConfig(env: Record<string, string | undefined>): UtilityConfig | undefined {
  const get = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);
  if (get(envNames.fleetFile) === undefined) return undefined;
  const origin = get(envNames["clock.originMs"]);
  const speed = get(envNames["clock.speed"]);
  const raw = {
    fleetFile: get(envNames.fleetFile),
    readings: {
      chainId: get(envNames["readings.chainId"]),
      deliveryLedger: get(envNames["readings.deliveryLedger"]),
      intervalSeconds: get(envNames["readings.intervalSeconds"]) ?? "900",
    },
    polling: {
      concurrency: get(envNames["polling.concurrency"]),
      requestTimeoutMs: get(envNames["polling.requestTimeoutMs"]),
    },
    failedRequests: { periodMs: get(envNames["failedRequests.periodMs"]) },
    commands: { periodMs: get(envNames["commands.periodMs"]) },
    minLoopGapMs: get(envNames.minLoopGapMs),
    lease: { leaseMs: get(envNames["lease.leaseMs"]), renewMs: get(envNames["lease.renewMs"]) },
    recovery: { concurrency: get(envNames["recovery.concurrency"]) },
    retention: { months: get(envNames["retention.months"]) },
    signatureWorkers: get(envNames.signatureWorkers),
    clock: origin === undefined && speed === undefined ? undefined : { originMs: origin, speed },
  };
  const parsed = utilityConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.map(String).join(".");
        const name = (envNames as Record<string, string>)[key] ?? key;
        // A missing value reads better as "is required" than zod's "expected string, received undefined".
        const message = /received undefined/.test(issue.message) ? "is required" : issue.message;
        return `${name}: ${message}`;
      }),
    );
  }
  return parsed.data;
}
