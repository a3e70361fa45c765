import { z } from "zod";

import { ConfigError } from "../../common/errors.js";

/** Watt-hours as a decimal string or a safe integer, kept as bigint (energy is never floating point). */
const wattHours = z
  .union([z.string().regex(/^(0|[1-9][0-9]{0,18})$/), z.int().min(0)], { error: "must be whole watt-hours" })
  .transform((v) => BigInt(v))
  .refine((v) => v < 2n ** 63n, "must be below 2^63 Wh");

const hour = z.coerce.number().int();

const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as UTC or America/New_York");

/** Whole hours [startHour, endHour) of each day, as `put_billing_rates` spells peak hours. */
export const peakHoursSchema = z
  .object({ startHour: hour.min(0).max(23), endHour: hour.min(1).max(24) })
  .refine((p) => p.startHour < p.endHour, { path: ["endHour"], message: "must be after startHour" });

/**
 * Where the regional grid's answers come from: its HTTP interface, or (drills and tests) a JSON file
 * an operator edits by hand.
 */
export const regionalGridFeedSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("http"),
    url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    /** A feed slower than this counts as unreachable for that round. */
    timeoutMs: z.coerce.number().int().min(100).max(120_000).default(5_000),
    /** File holding a bearer token the feed requires; the token itself is never in config or logs. */
    tokenFile: z.string().min(1).optional(),
  }),
  z.object({ kind: z.literal("file"), path: z.string().min(1) }),
]);

export type RegionalGridFeedConfig = z.output<typeof regionalGridFeedSchema>;

/** Regional supply and priorities (seed 000 §2.2.3). */
export const supplyConfigSchema = z.object({
  feed: regionalGridFeedSchema,
  battery: z
    .object({
      capacityWh: wattHours.refine((v) => v > 0n, "must be above 0"),
      /** Charge when the battery is first recorded; full by default. Later starts keep the stored charge. */
      initialChargeWh: wattHours.optional(),
    })
    .refine((b) => b.initialChargeWh === undefined || b.initialChargeWh <= b.capacityWh, {
      path: ["initialChargeWh"],
      message: "must not exceed capacityWh",
    }),
  purchase: z
    .object({
      /** Simulated seconds between Purchase_power rounds (each also learns the supply status). */
      everySeconds: z.coerce.number().int().min(1).max(86_400).default(300),
      /** Below this fraction of capacity the battery is critically low and is refilled even in peak hours. */
      criticalFraction: z.coerce.number().gt(0).lt(1).default(0.2),
      /** Largest single purchase, modelling the connection's limit; unlimited when absent. */
      maxPurchaseWh: wattHours.refine((v) => v > 0n, "must be above 0").optional(),
    })
    .prefault({}),
  /** Peak hours when the month has no billing rates yet. */
  peakHours: peakHoursSchema.default({ startHour: 17, endHour: 21 }),
  /** The zone peak hours and months are counted in (the billing time zone). */
  timeZone: timeZone.default("UTC"),
  /**
   * How far back a round looks for newly arrived meter records to drain the battery by. Records
   * arriving later than this (a longer outage, a recovery) are not charged to the battery again.
   */
  accountingLookbackHours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 7 * 10)
    .default(48),
});

export type SupplyConfig = z.output<typeof supplyConfigSchema>;
export type SupplyConfigInput = z.input<typeof supplyConfigSchema>;

const envNames: Record<string, string> = {
  "feed.url": "GRIDMESH_SUPPLY_FEED_URL",
  "feed.path": "GRIDMESH_SUPPLY_FEED_FILE",
  "feed.timeoutMs": "GRIDMESH_SUPPLY_FEED_TIMEOUT_MS",
  "feed.tokenFile": "GRIDMESH_SUPPLY_FEED_TOKEN_FILE",
  "battery.capacityWh": "GRIDMESH_SUPPLY_BATTERY_WH",
  "battery.initialChargeWh": "GRIDMESH_SUPPLY_INITIAL_CHARGE_WH",
  "purchase.everySeconds": "GRIDMESH_SUPPLY_PURCHASE_EVERY_S",
  "purchase.criticalFraction": "GRIDMESH_SUPPLY_CRITICAL_FRACTION",
  "purchase.maxPurchaseWh": "GRIDMESH_SUPPLY_MAX_PURCHASE_WH",
  peakHours: "GRIDMESH_SUPPLY_PEAK_HOURS",
  timeZone: "GRIDMESH_BILLING_TIME_ZONE",
  accountingLookbackHours: "GRIDMESH_SUPPLY_LOOKBACK_HOURS",
};

/**
 * Reads the supply configuration from the environment; undefined when no feed is configured (the
 * utility then runs without supply management). Every problem is reported by its variable's name.
 */
export function loadSupplyConfig(env: Record<string, string | undefined>): SupplyConfig | undefined {
  const set = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);
  const url = set("GRIDMESH_SUPPLY_FEED_URL");
  const file = set("GRIDMESH_SUPPLY_FEED_FILE");
  if (url === undefined && file === undefined) return undefined;
  if (url !== undefined && file !== undefined) {
    throw new ConfigError(["GRIDMESH_SUPPLY_FEED_URL and GRIDMESH_SUPPLY_FEED_FILE: set one, not both"]);
  }
  const problems: string[] = [];
  const peak = set("GRIDMESH_SUPPLY_PEAK_HOURS");
  const peakMatch = peak === undefined ? undefined : /^([0-9]{1,2})-([0-9]{1,2})$/.exec(peak);
  if (peak !== undefined && (peakMatch === undefined || peakMatch === null)) {
    problems.push(`GRIDMESH_SUPPLY_PEAK_HOURS: "${peak}" is not START-END in whole hours, e.g. 17-21`);
  }
  const raw = {
    feed:
      url !== undefined
        ? {
            kind: "http",
            url,
            timeoutMs: set("GRIDMESH_SUPPLY_FEED_TIMEOUT_MS"),
            tokenFile: set("GRIDMESH_SUPPLY_FEED_TOKEN_FILE"),
          }
        : { kind: "file", path: file },
    battery: {
      capacityWh: set("GRIDMESH_SUPPLY_BATTERY_WH"),
      initialChargeWh: set("GRIDMESH_SUPPLY_INITIAL_CHARGE_WH"),
    },
    purchase: {
      everySeconds: set("GRIDMESH_SUPPLY_PURCHASE_EVERY_S"),
      criticalFraction: set("GRIDMESH_SUPPLY_CRITICAL_FRACTION"),
      maxPurchaseWh: set("GRIDMESH_SUPPLY_MAX_PURCHASE_WH"),
    },
    peakHours: peakMatch ? { startHour: peakMatch[1], endHour: peakMatch[2] } : undefined,
    timeZone: set("GRIDMESH_BILLING_TIME_ZONE"),
    accountingLookbackHours: set("GRIDMESH_SUPPLY_LOOKBACK_HOURS"),
  };
  const parsed = supplyConfigSchema.safeParse(withoutUnset(raw));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.map(String).join(".");
      const name = envNames[key] ?? envNames[key.split(".")[0]!] ?? key;
      problems.push(`${name}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** Drops unset variables, so that the parsed config has no keys standing for nothing. */
function withoutUnset(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, withoutUnset(v)]),
  );
}
