import { z } from "zod";

import { CONTROLLER_LOCATIONS, supplyStatusSchema } from "../utility/supply/supplyStatus.js";
import { count, page, timestamp } from "./schemaParts.js";

/**
 * The supply endpoints' schemas (seed 000 §2.2.3). Watt-hours are decimal strings (JSON numbers stop
 * being exact at 2^53); grid shares are plain numbers (0, 0.5, 1).
 */

// --- bodies -------------------------------------------------------------------------------------

export const supplyOverrideBodySchema = z.strictObject({
  status: supplyStatusSchema
    .nullable()
    .describe("the status to act on regardless of the regional grid; null hands control back to it"),
  reason: z
    .string()
    .trim()
    .min(1, "must say why")
    .max(500)
    .describe("recorded in the history with the override"),
});

// --- responses ----------------------------------------------------------------------------------

const wattHours = z.string().regex(/^(0|[1-9][0-9]*)$/);
const id = z.string().regex(/^[1-9][0-9]*$/);

export const supplyStatusViewSchema = z.strictObject({
  status: supplyStatusSchema
    .nullable()
    .describe("the status the utility acts on; null until the grid has answered"),
  decidedBy: z.enum(["override", "feed", "unknown"]),
  feed: z.strictObject({
    source: z.string().nullable().describe("the feed's URL or file"),
    status: supplyStatusSchema.nullable().describe("the feed's last answer, kept while it fails"),
    answeredAt: timestamp.nullable(),
    failing: z.boolean(),
    consecutiveFailures: count,
    lastError: z.string().nullable(),
    lastErrorAt: timestamp.nullable(),
  }),
  override: z.strictObject({ status: supplyStatusSchema, reason: z.string(), at: timestamp }).nullable(),
  lastRound: z
    .strictObject({
      at: timestamp,
      peak: z.boolean(),
      peakHours: z.strictObject({
        startHour: z.number().int(),
        endHour: z.number().int(),
        timeZone: z.string(),
        source: z.string().describe("billing_rates of the month, or configuration"),
      }),
    })
    .nullable(),
});

export const supplyRoutingSchema = z.strictObject({
  status: supplyStatusSchema.nullable(),
  controllers: z.array(
    z.strictObject({
      controllerId: z.string(),
      location: z.enum(CONTROLLER_LOCATIONS),
      fraction: z.number().min(0).max(1).describe("share of its normal grid feed routed to it"),
      demandReduction: z.boolean(),
      decidedUnder: supplyStatusSchema.nullable().describe("the status of the last change; null: never told"),
      decidedAt: timestamp.nullable(),
    }),
  ),
});

export const supplyBatterySchema = z.strictObject({
  capacityWh: wattHours,
  chargeWh: wattHours,
  criticalWh: wattHours.describe("below this it is refilled even in peak hours"),
  criticallyLow: z.boolean(),
  accountingFrom: timestamp.describe("meter records starting earlier are not charged to it"),
  unservedWh: wattHours.describe("supplied energy the battery could not cover"),
  spilledWh: wattHours.describe("energy it had no room for"),
  updatedAt: timestamp,
});

export const supplyPurchaseSchema = z.strictObject({
  id,
  at: timestamp,
  peak: z.boolean(),
  reason: z.enum(["off_peak_refill", "critical_refill"]),
  requestedWh: wattHours,
  grantedWh: wattHours,
  supplyStatus: supplyStatusSchema
    .nullable()
    .describe("the grid's status in its answer; null when it failed"),
  chargeBeforeWh: wattHours,
  chargeAfterWh: wattHours,
  error: z.string().nullable(),
});
export const supplyPurchasePageSchema = page(supplyPurchaseSchema);

export const supplyHistoryEntrySchema = z.strictObject({
  id,
  at: timestamp,
  source: z.enum(["feed", "feed_failure", "override", "override_cleared"]),
  reportedStatus: supplyStatusSchema.nullable(),
  previousStatus: supplyStatusSchema.nullable(),
  effectiveStatus: supplyStatusSchema.nullable(),
  note: z.string().nullable(),
});
export const supplyHistoryPageSchema = page(supplyHistoryEntrySchema);

export const supplyOverrideResultSchema = z.strictObject({
  previous: supplyStatusSchema.nullable(),
  status: supplyStatusSchema.nullable(),
  commands: z.array(
    z.strictObject({
      id,
      controllerId: z.string(),
      command: z.enum(["reduce_power_demand_on", "reduce_power_demand_off", "set_grid_supply"]),
      params: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** Response schemas of the supply endpoints, named as they appear in the OpenAPI document. */
export const supplyComponentSchemas = {
  SupplyStatus: supplyStatusViewSchema,
  SupplyRouting: supplyRoutingSchema,
  SupplyBattery: supplyBatterySchema,
  SupplyPurchasePage: supplyPurchasePageSchema,
  SupplyHistoryPage: supplyHistoryPageSchema,
  SupplyOverride: supplyOverrideResultSchema,
} as const;
