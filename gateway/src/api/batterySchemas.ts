import { z } from "zod";

import { batteryStateSchema, signedBatteryReportSchema } from "@gridmesh/contracts";

import { lowerAddress as address, page } from "./schemaParts.js";

/**
 * The battery endpoints' schemas. A report is stored as the meter signed it, so what the API serves
 * can be checked against the meter's key by anyone (the same EIP-712 message, gateway domain).
 */

const unixSeconds = z.number().int().nonnegative().describe("Unix seconds on the meter agent's clock");

export const batteryReportReceiptSchema = z.strictObject({
  meter: address,
  takenAt: unixSeconds,
  status: z.enum(["stored", "duplicate"]).describe("duplicate: this very report was stored before"),
});

export const storedBatteryReportSchema = z.strictObject({
  meter: address,
  takenAt: unixSeconds,
  batteries: z.array(batteryStateSchema),
  signature: z.string().regex(/^0x[0-9a-f]{130}$/),
  receivedAt: z.iso.datetime(),
});

export const batteryReportPageSchema = page(storedBatteryReportSchema);

export const latestBatteryReportSchema = z.strictObject({
  meter: address,
  latest: storedBatteryReportSchema.nullable().describe("null until the meter has reported"),
});

export const batteryComponentSchemas = {
  SignedBatteryReport: signedBatteryReportSchema,
  BatteryReportReceipt: batteryReportReceiptSchema,
  StoredBatteryReport: storedBatteryReportSchema,
  BatteryReportPage: batteryReportPageSchema,
  LatestBatteryReport: latestBatteryReportSchema,
} as const;
