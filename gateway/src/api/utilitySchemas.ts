import { z } from "zod";

import { controllerCommandSchema, hourSchema } from "../microgrid/controllerApi.js";
import { STATISTIC_TYPES, STATISTICS_WINDOWS } from "../utility/statistics/exportStatistics.js";
import { count, page, timestamp } from "./schemaParts.js";

/**
 * The utility endpoints' schemas (seed 000 §2.2.2): controllers and the hours held from them, the
 * failed-request queue, refused records, statistics, the CIDB export, recovery and commands.
 */

// --- parameters and bodies ----------------------------------------------------------------------

export const controllerIdParam = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be a controller id (1–64 of a-z, 0-9, '.', '_', '-')");

export const recoveryBodySchema = z.strictObject({
  controllerId: controllerIdParam.optional().describe("one controller; every controller when omitted"),
  all: z.boolean().default(false).describe("re-request every hour of the window, held or not"),
  weeks: z.int().min(1).max(10).default(10).describe("how far back, at most the ten weeks controllers keep"),
});

export const commandBodySchema = z.strictObject({
  controllerIds: z
    .array(controllerIdParam)
    .min(1)
    .max(1000)
    .optional()
    .describe("the controllers to send it to; every controller when omitted"),
  command: controllerCommandSchema,
});

export const commandStatus = z.enum(["pending", "delivered", "refused"]);

// --- responses ---------------------------------------------------------------------------------

/** Watt-hours as a decimal string; contribution may be negative. */
const signedWh = z.string().regex(/^-?(0|[1-9][0-9]*)$/);
const month = z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/);
const day = z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/);

export const utilityControllerSchema = z.strictObject({
  controllerId: z.string(),
  location: z.enum(["residential", "apartment", "emergency"]),
  url: z.string(),
  accounts: count,
  meters: count,
  hoursHeld: count.describe("usage hours held (within the six-month retention)"),
  lastHour: hourSchema.nullable().describe("the newest hour held"),
  unacknowledgedHours: count.describe("hours stored but not yet acknowledged to the controller"),
  failedRequests: count.describe("hours in the FRQ, recovery included"),
  pendingCommands: count,
});

export const usageHourSchema = z.strictObject({
  hour: hourSchema,
  records: count.describe("readings of the hour held: stored now or identical to one stored before"),
  rejected: count.describe("readings of the hour refused (see /v1/operator/utility/rejected-records)"),
  acknowledged: z.boolean(),
  receivedAt: timestamp,
});

export const failedRequestSchema = z.strictObject({
  id: z.string(),
  controllerId: z.string(),
  hour: hourSchema,
  reason: z.enum(["failed", "catch-up", "recovery"]),
  attempts: count,
  lastError: z.string().nullable(),
  firstFailedAt: timestamp.describe("when the hour was queued"),
  lastFailedAt: timestamp.describe("when it was last tried (or queued)"),
});

export const rejectedRecordSchema = z.strictObject({
  id: z.string(),
  controllerId: z.string(),
  hour: hourSchema,
  record: z.unknown().describe("the reading as the controller sent it"),
  reason: z.string(),
  receivedAt: timestamp,
});

export const statisticsExportSchema = z.strictObject({
  currentMonth: month,
  averages: z.array(
    z.strictObject({
      controllerId: z.string(),
      statistic: z.enum(STATISTIC_TYPES),
      window: z.enum(STATISTICS_WINDOWS.map((w) => w.window) as [string, ...string[]]),
      from: month,
      to: month,
      monthsInWindow: count,
      monthsCovered: count.describe("months of the window with statistics: the divisor"),
      incompleteMonths: count.describe("covered months whose statistics stop before the month's end"),
      averageWh: signedWh.nullable().describe("rounded half away from zero; null when no month is covered"),
    }),
  ),
  monthToDate: z.array(
    z.strictObject({
      controllerId: z.string(),
      statistic: z.enum(STATISTIC_TYPES),
      month,
      valueWh: signedWh,
      throughDay: day,
    }),
  ),
});

export const cidbExportLineSchema = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("header"),
      format: z.literal("gridmesh-cidb"),
      version: z.literal(1),
      exportedAt: timestamp,
      engine: z.string(),
      tables: z.array(z.string()),
    }),
    z.strictObject({
      type: z.literal("table"),
      table: z.string(),
      columns: z.array(z.strictObject({ name: z.string(), type: z.string() })),
    }),
    z.strictObject({ type: z.literal("row"), table: z.string(), row: z.record(z.string(), z.unknown()) }),
    z.strictObject({ type: z.literal("end"), rows: z.record(z.string(), count) }),
  ])
  .describe("one line of the NDJSON export (application/x-ndjson)");

export const recoveryQueuedSchema = z.strictObject({
  weeks: count,
  all: z.boolean(),
  controllers: z.array(z.strictObject({ controllerId: z.string(), queued: count })),
});

export const commandsQueuedSchema = z.strictObject({
  command: z.string(),
  items: z.array(z.strictObject({ id: z.string(), controllerId: z.string() })),
});

export const controllerCommandRowSchema = z.strictObject({
  id: z.string(),
  controllerId: z.string(),
  command: z.string(),
  params: z.unknown(),
  status: commandStatus,
  attempts: count,
  lastError: z.string().nullable(),
  createdAt: timestamp,
  deliveredAt: timestamp.nullable(),
});

/** Response schemas of the utility endpoints, named as they appear in the OpenAPI document. */
export const utilityComponentSchemas = {
  UtilityControllers: z.strictObject({ items: z.array(utilityControllerSchema) }),
  UsageHourPage: page(usageHourSchema),
  FailedRequestPage: page(failedRequestSchema),
  RejectedRecordPage: page(rejectedRecordSchema),
  UtilityStatistics: statisticsExportSchema,
  CidbExportLine: cidbExportLineSchema,
  RecoveryQueued: recoveryQueuedSchema,
  CommandsQueued: commandsQueuedSchema,
  ControllerCommandPage: page(controllerCommandRowSchema),
} as const;
