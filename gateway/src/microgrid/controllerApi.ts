import { z } from "zod";

import {
  DATA_INTERVAL_MAX_SECONDS,
  DATA_INTERVAL_MIN_SECONDS,
  meterCommandParams,
  signedReadingSchema,
  type SignedReadingJson,
} from "@gridmesh/contracts";

/**
 * The interface between the utility and a microgrid controller (seed 000 §2.1.3 and §2.2.2), the one
 * definition both sides import. HTTP with JSON bodies; every request carries the controller's
 * utility token as `Authorization: Bearer <token>` (the controller holds only its SHA-256).
 *
 * - `GET  /v1/usage/hours?from=&to=`  which usage hours the controller holds (recovery, ten weeks).
 * - `GET  /v1/usage/{hour}`           the readings received in that completed hour (`get`);
 *                                     409 while the hour is still running.
 * - `POST /v1/usage/{hour}/ack`       the utility stored them: the file becomes a backup.
 * - `POST /v1/commands`               a utility command, forwarded to the meters where it applies.
 * - `GET  /v1/status`                 the controller's tables, for operators and tests.
 *
 * Errors are `{error: {name, message, details}}` with a 4xx/5xx status, as the gateway's API.
 */
export const CONTROLLER_API = {
  usageHours: "/v1/usage/hours",
  usageHour: (hour: string) => `/v1/usage/${encodeURIComponent(hour)}`,
  ackHour: (hour: string) => `/v1/usage/${encodeURIComponent(hour)}/ack`,
  commands: "/v1/commands",
  status: "/v1/status",
} as const;

/** An hour is named by its start in UTC, to the second: `2026-11-22T13:00:00Z`. */
export const hourSchema = z
  .string()
  .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00Z$/, "must be a whole UTC hour as YYYY-MM-DDTHH:00:00Z")
  .refine(
    (s) => !Number.isNaN(Date.parse(s)) && new Date(Date.parse(s)).toISOString() === `${s.slice(0, -1)}.000Z`,
    {
      message: "is not a real date and hour",
    },
  );

export const HOUR_MS = 3_600_000;

/** The hour containing `ms`, as its name. */
export function hourOf(ms: number): string {
  return hourName(Math.floor(ms / HOUR_MS) * HOUR_MS);
}

/** The name of the hour starting at `startMs` (which must be a whole hour). */
export function hourName(startMs: number): string {
  if (startMs % HOUR_MS !== 0) throw new RangeError(`${startMs} is not the start of an hour`);
  return `${new Date(startMs).toISOString().slice(0, 19)}Z`;
}

export function hourStartMs(hour: string): number {
  return Date.parse(hour);
}

export const usageHoursQuerySchema = z.strictObject({ from: hourSchema, to: hourSchema });

export interface UsageHourSummary {
  hour: string;
  readings: number;
  /** The utility acknowledged this hour; the controller keeps it as a backup for ten weeks. */
  backup: boolean;
}

export interface UsageHoursResponse {
  controllerId: string;
  hours: UsageHourSummary[];
}

export interface UsageHourResponse {
  controllerId: string;
  hour: string;
  backup: boolean;
  /** Every reading the controller received in the hour, as the meters signed them. */
  readings: SignedReadingJson[];
}

export interface AckResponse {
  controllerId: string;
  hour: string;
  backup: true;
}

export const usageHoursResponseSchema = z.strictObject({
  controllerId: z.string(),
  hours: z.array(z.strictObject({ hour: hourSchema, readings: z.int().min(0), backup: z.boolean() })),
});

/**
 * Readings stay unparsed here (`z.unknown()`): the utility checks each one on its own, so that one
 * malformed reading is rejected with its reason while the rest of the hour is stored.
 */
export const usageHourResponseSchema = z.strictObject({
  controllerId: z.string(),
  hour: hourSchema,
  backup: z.boolean(),
  readings: z.array(z.unknown()),
});

export const ackResponseSchema = z.strictObject({
  controllerId: z.string(),
  hour: hourSchema,
  backup: z.literal(true),
});

/** The one reading shape checked on both sides. */
export { signedReadingSchema };

/**
 * Utility → controller commands (seed 000 §2.1.3). `set_grid_supply` carries the share of the
 * controller's normal grid feed the utility routes to it under the supply priorities (§2.2.3).
 */
export const controllerCommandSchema = z.discriminatedUnion("command", [
  z.strictObject({ command: z.literal("put_billing_rates"), params: meterCommandParams.put_billing_rates }),
  z.strictObject({ command: z.literal("reduce_power_demand_on"), params: z.strictObject({}).default({}) }),
  z.strictObject({ command: z.literal("reduce_power_demand_off"), params: z.strictObject({}).default({}) }),
  z.strictObject({
    command: z.literal("set_data_interval"),
    params: z.strictObject({
      seconds: z.int().min(DATA_INTERVAL_MIN_SECONDS).max(DATA_INTERVAL_MAX_SECONDS),
    }),
  }),
  z.strictObject({
    command: z.literal("set_grid_supply"),
    params: z.strictObject({ fraction: z.number().min(0).max(1) }),
  }),
]);

export type ControllerCommand = z.output<typeof controllerCommandSchema>;
export type ControllerCommandInput = z.input<typeof controllerCommandSchema>;
export type ControllerCommandName = ControllerCommand["command"];

export interface ControllerCommandResponse {
  controllerId: string;
  command: ControllerCommandName;
  /** Meters the command was queued for (forwarded as signed meter commands, retried until taken). */
  forwardedTo: number;
}

export const controllerCommandResponseSchema = z.strictObject({
  controllerId: z.string(),
  command: z.string(),
  forwardedTo: z.int().min(0),
});

/** One row of seed 000's Meter_States joined with Meter_Last_Update. */
export interface MeterStateView {
  meter: string;
  isOn: boolean;
  sharingPower: boolean;
  aggregating: boolean;
  reducingPowerDemand: boolean;
  /** Fraction of charge the meter keeps for itself; null for a meter without a battery. */
  batteryThreshold: number | null;
  /** Last reported state of charge (0–1); null before the first report or without a battery. */
  batteryPercent: number | null;
  /** Unix ms of the last data received from the meter; null before the first. */
  lastUpdateMs: number | null;
  /** Highest reading sequence stored in a usage file. */
  lastSequence: string | null;
}

export interface ControllerStatus {
  controllerId: string;
  atMs: number;
  dataIntervalSeconds: number;
  utilityReachable: boolean;
  /** Demand reduction the utility asked for, and the one the controller applies while it is offline. */
  utilityDemandReduction: boolean;
  offlineDemandReduction: boolean;
  gridSupplyFraction: number;
  requestStack: number;
  pendingMeterCommands: number;
  meters: MeterStateView[];
}
