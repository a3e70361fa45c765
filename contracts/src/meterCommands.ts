import { z } from "zod";

import { hexAddressSchema } from "./readingWire.js";
import type { Address, Hex } from "./typedData.js";

/**
 * Commands from a microgrid controller to a meter agent (seed 000 §2.1.3), signed with EIP-712.
 * The signed message binds the meter, a nonce that must grow with every command from the same
 * controller, and an expiry: a command cannot be forged, replayed, or redirected to another meter.
 * The gateway (acting as the controller) signs with these definitions and the agent verifies with
 * them; this file holds types and schemas only, so that any signing library can use it.
 */

/** The EIP-712 type; `params` is the canonical JSON of the command's parameters (`canonicalJson`). */
export const meterCommandTypes = {
  MeterCommand: [
    { name: "meter", type: "address" },
    { name: "nonce", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
    { name: "command", type: "string" },
    { name: "params", type: "string" },
  ],
} as const;

/**
 * No verifying contract: commands are checked by the agent, not on chain, and the meter address in
 * the message already scopes a command to one device.
 */
export interface MeterCommandDomain {
  name: string;
  version: string;
  chainId: bigint;
}

export function meterCommandDomain(chainId: bigint): MeterCommandDomain {
  return { name: "GridMesh MeterAgent", version: "1", chainId };
}

/** Readings one command may return or acknowledge; the same bound as a forwarded batch. */
export const METER_COMMAND_MAX_READINGS = 1000;
/** Readings one `aggregate` may span: about 35 days of 5-minute intervals, a few MB answered. */
export const METER_COMMAND_MAX_AGGREGATE_SPAN = 10_000;
/** Seed 000 Table 1: `Data_Time_Interval` is 300 s by default. */
export const DATA_INTERVAL_DEFAULT_SECONDS = 300;
export const DATA_INTERVAL_MIN_SECONDS = 10;
export const DATA_INTERVAL_MAX_SECONDS = 86_400;
/** Longest `params` text accepted: 1000 acknowledged sequences of 20 digits fit with room to spare. */
export const METER_COMMAND_MAX_PARAMS_CHARS = 32_768;

const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

// Decimal strings, as in readingWire.ts: JSON numbers lose precision above 2^53.
const decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "must be a decimal integer string without leading zeros");

const uint64 = decimal.transform((s) => BigInt(s)).refine((n) => n <= UINT64_MAX, "must fit in uint64");

/** Token base units per kWh, kept as the decimal text the utility sent; at most a uint256. */
// The refinement runs even when the pattern failed, so it must not hand BigInt a non-number.
const rate = decimal.refine((s) => !/^[0-9]+$/.test(s) || BigInt(s) <= UINT256_MAX, "must fit in uint256");

const noParams = z.strictObject({});

/** Each command's parameters as they appear in `params` (before canonical encoding). */
export const meterCommandParams = {
  /** Stored readings after `sequence`, oldest first. */
  get_readings_since: z.strictObject({
    sequence: uint64,
    limit: z.int().min(1).max(METER_COMMAND_MAX_READINGS).default(100),
  }),
  /** The controller holds these readings: mark them delivered. */
  acknowledge: z.strictObject({
    sequences: z
      .array(uint64)
      .min(1, "must list at least one sequence")
      .max(METER_COMMAND_MAX_READINGS, `lists at most ${METER_COMMAND_MAX_READINGS} sequences`)
      .refine((s) => new Set(s).size === s.length, "must not list a sequence twice"),
  }),
  /** Energy over a range of readings; `lossless` adds every interval's own values. */
  aggregate: z
    .strictObject({ fromSequence: uint64, toSequence: uint64, lossless: z.boolean() })
    .refine((p) => p.fromSequence <= p.toSequence, { path: ["toSequence"], message: "is below fromSequence" })
    .refine((p) => p.toSequence - p.fromSequence < BigInt(METER_COMMAND_MAX_AGGREGATE_SPAN), {
      path: ["toSequence"],
      message: `spans more than ${METER_COMMAND_MAX_AGGREGATE_SPAN} readings`,
    }),
  /** Seed 000's `set_data_time_interval`. */
  set_data_interval: z.strictObject({
    seconds: z.int().min(DATA_INTERVAL_MIN_SECONDS).max(DATA_INTERVAL_MAX_SECONDS),
  }),
  reduce_power_demand_on: noParams,
  reduce_power_demand_off: noParams,
  /** Share the battery's charge above `batteryThreshold` (a state-of-charge fraction). */
  share_power_on: z.strictObject({ batteryThreshold: z.number().min(0).max(1) }),
  share_power_off: noParams,
  /**
   * One month's time-of-use rates (seed 000 Billing Rates): peak hours are the whole hours
   * [peakStartHour, peakEndHour) of each day in the utility's billing time zone.
   */
  put_billing_rates: z
    .strictObject({
      month: z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, "must be a month as YYYY-MM"),
      peakRate: rate,
      offPeakRate: rate,
      peakStartHour: z.int().min(0).max(23),
      peakEndHour: z.int().min(1).max(24),
    })
    .refine((p) => p.peakStartHour < p.peakEndHour, {
      path: ["peakEndHour"],
      message: "must be after peakStartHour",
    }),
  status: noParams,
} as const;

export type MeterCommandName = keyof typeof meterCommandParams;

export const meterCommandNames = Object.keys(meterCommandParams) as [MeterCommandName, ...MeterCommandName[]];

/** What a signer writes into `params` for command K. */
export type MeterCommandParamsInput<K extends MeterCommandName> = z.input<(typeof meterCommandParams)[K]>;
/** What a verifier gets out of `params` for command K. */
export type MeterCommandParams<K extends MeterCommandName> = z.output<(typeof meterCommandParams)[K]>;

/** A command with its parameters decoded, discriminated by `command`. */
export type MeterCommandRequest = {
  [K in MeterCommandName]: { command: K; params: MeterCommandParams<K> };
}[MeterCommandName];

/** The EIP-712 message. */
export interface MeterCommand {
  meter: Address;
  /** Strictly greater than the previous command's from the same controller; the first is ≥ 1. */
  nonce: bigint;
  /** Unix seconds; from this second on the agent refuses the command. */
  expiresAt: bigint;
  command: MeterCommandName;
  params: string;
}

export interface SignedMeterCommand {
  command: MeterCommand;
  /** The controller's 65-byte EIP-712 signature over `command`. */
  signature: Hex;
}

export interface MeterCommandJson {
  meter: string;
  nonce: string;
  expiresAt: string;
  command: MeterCommandName;
  params: string;
}

export interface SignedMeterCommandJson {
  command: MeterCommandJson;
  signature: string;
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as `Array.prototype.sort`) at every depth
 * and no whitespace. Signer and verifier must agree on the exact text, and requiring this one form
 * leaves no second spelling of the same parameters (duplicate keys, spacing, `1.0`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** Builds the message for command K, checking its parameters first. */
export function buildMeterCommand<K extends MeterCommandName>(
  meter: Address,
  nonce: bigint,
  expiresAt: bigint,
  command: K,
  params: MeterCommandParamsInput<K>,
): MeterCommand {
  meterCommandParams[command].parse(params);
  return { meter, nonce, expiresAt, command, params: canonicalJson(params) };
}

const canonicalParamsText = z
  .string()
  .max(METER_COMMAND_MAX_PARAMS_CHARS, `must be at most ${METER_COMMAND_MAX_PARAMS_CHARS} characters`)
  .transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not JSON" });
      return z.NEVER;
    }
    if (canonicalJson(value) !== text) {
      ctx.addIssue({ code: "custom", message: "must be canonical JSON (keys sorted, no whitespace)" });
      return z.NEVER;
    }
    return value;
  });

/** Decodes and checks `params` for `command`; throws a `z.ZodError` naming each bad field. */
export function parseMeterCommandParams(command: MeterCommandName, params: string): MeterCommandRequest {
  const decoded = canonicalParamsText.pipe(meterCommandParams[command] as z.ZodType).parse(params);
  return { command, params: decoded } as MeterCommandRequest;
}

export const meterCommandSchema = z.strictObject({
  meter: hexAddressSchema,
  nonce: uint64.refine((n) => n >= 1n, "must be at least 1"),
  expiresAt: uint64,
  command: z.enum(meterCommandNames, { error: `must be one of ${meterCommandNames.join(", ")}` }),
  params: z.string(),
});

export const signedMeterCommandSchema = z.strictObject({
  command: meterCommandSchema,
  signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-prefixed hex signature")
    .transform((s) => s as Hex),
});

export function meterCommandToJson(c: MeterCommand): MeterCommandJson {
  return {
    meter: c.meter,
    nonce: c.nonce.toString(),
    expiresAt: c.expiresAt.toString(),
    command: c.command,
    params: c.params,
  };
}

export function signedMeterCommandToJson({ command, signature }: SignedMeterCommand): SignedMeterCommandJson {
  return { command: meterCommandToJson(command), signature };
}

/** Parses the envelope (not yet `params`); throws a `z.ZodError` naming each bad field. */
export function signedMeterCommandFromJson(json: unknown): SignedMeterCommand {
  return signedMeterCommandSchema.parse(json);
}
