import { z } from "zod";

import type { BatteryStatus } from "../battery.js";

/**
 * The battery protocol's wire shapes, validated with zod on whichever side receives them:
 *
 *     GET /batteries                      → 200 { batteries: string[] }  (those the key may use)
 *     GET /batteries/{name}/status        → 200 BatteryStatus
 *     PUT /batteries/{name}/current       { current: number } → 204
 *     any error                           → 4xx/5xx { error: { name, message, details } }
 *
 * Every request carries the headers of `signing.ts`, every answer but a 401 is signed too.
 */
export function batteryPath(name: string, resource: "status" | "current"): string {
  return `batteries/${encodeURIComponent(name)}/${resource}`;
}

export const setCurrentBody = z.strictObject({
  current: z.number().finite(),
});

const nonNegative = z.number().nonnegative().finite();
const batteryValues = z.strictObject({
  capacity: nonNegative,
  stateOfCharge: z.number().min(0).max(1),
  maxChargeCurrent: nonNegative,
  maxDischargeCurrent: nonNegative,
});

export const batteryStatus: z.ZodType<BatteryStatus> = z.strictObject({
  ...batteryValues.shape,
  voltage: z.number().finite(),
  current: z.number().finite(),
  expected: batteryValues,
  timestamp: z.tuple([z.number().finite(), z.number().finite()]),
});

export const batteryList = z.strictObject({ batteries: z.array(z.string()) });

export const errorBody = z.object({
  error: z.object({
    name: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).default({}),
  }),
});

/** The details a 422 carries, enough to raise the same `BatteryRangeError` on the client. */
export const rangeDetails = z.object({
  battery: z.string(),
  requested: z.number(),
  limit: z.number(),
  direction: z.enum(["charge", "discharge"]),
});

/** Renders zod issues as one line each: `current: Invalid input: expected number, received string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`))
    .join("; ");
}
