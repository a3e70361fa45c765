import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";

import { getAddress } from "ethers";
import { z } from "zod";

import {
  DATA_INTERVAL_DEFAULT_SECONDS,
  DATA_INTERVAL_MAX_SECONDS,
  DATA_INTERVAL_MIN_SECONDS,
  type Address,
} from "@gridmesh/contracts";

import { ConfigError } from "../common/errors.js";

/** The environment variable naming the configuration file when `--config` is not given. */
export const CONTROLLER_CONFIG_ENV = "GRIDMESH_CONTROLLER_CONFIG";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((s, ctx) => {
    try {
      return getAddress(s) as Address;
    } catch {
      ctx.addIssue({ code: "custom", message: "has an invalid checksum (mixed case that is not EIP-55)" });
      return z.NEVER;
    }
  });

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const port = z.int().min(0).max(65_535);
const positiveMs = z.int().min(1);

const meterSchema = z.strictObject({
  meter: address,
  /** The agent's command server base URL (it answers `POST /v1/commands`). */
  url: httpUrl,
  battery: z.boolean().default(false),
  /** State of charge the meter keeps for itself; below it the microgrid shares power to it. */
  batteryThreshold: z.number().min(0).max(1).default(0.3),
});

const pollingSchema = z.strictObject({
  /** Meters polled at once: a Raspberry Pi's network and CPU, not the number of meters, set the pace. */
  concurrency: z.int().min(1).max(64).default(4),
  /** Readings asked for per `get_readings_since`. */
  pageSize: z.int().min(1).max(1000).default(500),
  /** First retry delay of a failed request (simulated ms); it doubles per failure up to the data interval. */
  retryDelayMs: positiveMs.default(5_000),
  /** Wall-clock bound on one HTTP request to an agent. */
  requestTimeoutMs: positiveMs.default(10_000),
  /**
   * How long a signed command stays valid, in wall-clock seconds (agents check expiry on the wall
   * clock, whatever clock their readings run on). Short, so a captured command is soon worthless.
   */
  commandLifetimeSeconds: z.int().min(5).max(3_600).default(60),
});

const rawSchema = z
  .strictObject({
    /** The controller's name at the utility (CIDB microgrid_controllers.controller_id). */
    controllerId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1–64 of a-z 0-9 . _ - starting with a letter or digit"),
    /** Usage files and the controller database; relative to the configuration file. */
    dataDir: z.string().min(1),
    http: z.strictObject({ host: z.string().min(1).default("127.0.0.1"), port }),
    utility: z.strictObject({
      healthUrl: httpUrl,
      /** Hex SHA-256 of the bearer token the utility sends; the token itself is never stored here. */
      tokenSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "must be a hex SHA-256 digest (64 hex digits)"),
      /** Simulated ms between health probes. */
      checkEveryMs: positiveMs.default(30_000),
      /** Simulated ms without any contact after which the controller acts as if the utility were down. */
      offlineAfterMs: positiveMs.default(120_000),
      /** Wall-clock bound on one health probe. */
      timeoutMs: positiveMs.default(5_000),
    }),
    key: z.strictObject({
      /** The controller's EIP-712 signing key as an ethers (v3) encrypted JSON keystore. */
      keystore: z.string().min(1),
      passphraseFile: z.string().min(1),
    }),
    /** The chain id of the meter-command EIP-712 domain the agents verify against. */
    chainId: z.int().min(1),
    meters: z.array(meterSchema).min(1, "name at least one meter"),
    dataIntervalSeconds: z
      .int()
      .min(DATA_INTERVAL_MIN_SECONDS)
      .max(DATA_INTERVAL_MAX_SECONDS)
      .default(DATA_INTERVAL_DEFAULT_SECONDS),
    polling: pollingSchema.prefault({}),
    /** Simulated time, `speed` times the wall clock from `originMs` (demos and tests). */
    clock: z.strictObject({ originMs: z.int().min(0), speed: z.number().positive() }).optional(),
    log: z
      .strictObject({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      })
      .default({ level: "info" }),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.meters.forEach((m, i) => {
      const key = m.meter.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined)
        ctx.addIssue({ code: "custom", path: ["meters", i, "meter"], message: `repeats meters.${first}` });
      else seen.set(key, i);
    });
    if (c.utility.offlineAfterMs < c.utility.checkEveryMs) {
      ctx.addIssue({
        code: "custom",
        path: ["utility", "offlineAfterMs"],
        message: "must be at least checkEveryMs: one failed probe cannot tell an outage",
      });
    }
  });

export type ControllerConfig = z.output<typeof rawSchema> & { configDir: string };
export type ControllerConfigInput = z.input<typeof rawSchema>;
export type MeterConfig = ControllerConfig["meters"][number];

/** Validates a parsed configuration, naming every bad field; paths in it are resolved against `configDir`. */
export function parseControllerConfig(json: unknown, configDir: string): ControllerConfig {
  const parsed = rawSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.flatMap(describeIssue));
  const c = parsed.data;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  return {
    ...c,
    configDir,
    dataDir: at(c.dataDir),
    key: { keystore: at(c.key.keystore), passphraseFile: at(c.key.passphraseFile) },
  };
}

/** One line per bad field; an unknown key is named itself, not reported at the object holding it. */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys")
    return issue.keys.map((key) => `${at === "" ? key : `${at}.${key}`}: is not a known setting`);
  return [`${at || "(root)"}: ${issue.message}`];
}

/** Reads and validates the configuration file at `path`. */
export async function loadControllerConfig(path: string): Promise<ControllerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new ConfigError([
      `cannot read the configuration ${path}: ${(cause as NodeJS.ErrnoException).code}`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError([`the configuration ${path} is not JSON: ${(cause as Error).message}`]);
  }
  return parseControllerConfig(json, dirname(resolve(path)));
}

/** The configuration file from `--config <file>` (or `--config=<file>`), else from the environment. */
export function configPathFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--config") {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new ConfigError(["--config needs a file name"]);
      return next;
    }
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
  }
  const fromEnv = env[CONTROLLER_CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  throw new ConfigError([`no configuration: pass --config <file> or set ${CONTROLLER_CONFIG_ENV}`]);
}
