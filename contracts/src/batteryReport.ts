import { z } from "zod";

import { hexAddressSchema, hexSignatureSchema } from "./readingWire.js";

/**
 * A home battery's state as its meter agent reports it to the gateway: every battery of the home's
 * topology (the cells, aggregates, and the partitions a battery is split into) in one snapshot,
 * signed with the meter's key so that the gateway stores only what the meter itself said. Integers
 * in milli-units keep the EIP-712 message exact; JSON carries them as plain numbers (all far below
 * 2^53).
 */
export const batteryReportTypes = {
  BatteryReport: [
    { name: "meter", type: "address" },
    { name: "takenAt", type: "uint64" },
    { name: "batteries", type: "BatteryState[]" },
  ],
  BatteryState: [
    { name: "name", type: "string" },
    { name: "kind", type: "string" },
    /** A partition's source battery; empty for other kinds. */
    { name: "source", type: "string" },
    /** Why the battery could not be read; empty when it was. */
    { name: "error", type: "string" },
    { name: "capacityMah", type: "uint64" },
    { name: "stateOfChargePpm", type: "uint32" },
    { name: "expectedCapacityMah", type: "uint64" },
    { name: "expectedStateOfChargePpm", type: "uint32" },
    { name: "voltageMv", type: "uint32" },
    /** Positive = discharging, negative = charging (BAL convention). */
    { name: "currentMa", type: "int64" },
    { name: "maxChargeMa", type: "uint64" },
    { name: "maxDischargeMa", type: "uint64" },
    /** A partition's accounted charge in and out since its splitter started; zero for other kinds. */
    { name: "chargedMah", type: "uint64" },
    { name: "dischargedMah", type: "uint64" },
  ],
} as const;

export const batteryKinds = ["physical", "aggregate", "partition", "network"] as const;
export type BatteryKind = (typeof batteryKinds)[number];

/** The most batteries one report may carry: a home topology, not a fleet. */
export const MAX_REPORTED_BATTERIES = 32;

const PPM = 1_000_000;
const UINT32_MAX = 2 ** 32 - 1;

const count = (max = Number.MAX_SAFE_INTEGER) => z.number().int().nonnegative().max(max);
const ppm = z.number().int().nonnegative().max(PPM, "must be at most 1,000,000 (parts per million)");

export const batteryStateSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    kind: z.enum(batteryKinds),
    source: z.string().max(64),
    error: z.string().max(500),
    capacityMah: count(),
    stateOfChargePpm: ppm,
    expectedCapacityMah: count(),
    expectedStateOfChargePpm: ppm,
    voltageMv: count(UINT32_MAX),
    currentMa: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
    maxChargeMa: count(),
    maxDischargeMa: count(),
    chargedMah: count(),
    dischargedMah: count(),
  })
  .superRefine((b, ctx) => {
    if ((b.kind === "partition") !== (b.source !== "")) {
      ctx.addIssue({
        code: "custom",
        path: ["source"],
        message: "names the source battery for a partition, and only for a partition",
      });
    }
  });

export type BatteryState = z.infer<typeof batteryStateSchema>;

export const batteryReportSchema = z
  .strictObject({
    meter: hexAddressSchema,
    /** Unix seconds on the agent's clock. */
    takenAt: count(),
    batteries: z.array(batteryStateSchema).min(1).max(MAX_REPORTED_BATTERIES),
  })
  .superRefine((r, ctx) => {
    const names = new Set<string>();
    for (const [i, b] of r.batteries.entries()) {
      if (names.has(b.name))
        ctx.addIssue({
          code: "custom",
          path: ["batteries", i, "name"],
          message: `"${b.name}" is listed twice`,
        });
      names.add(b.name);
    }
  });

export type BatteryReport = z.infer<typeof batteryReportSchema>;

export const signedBatteryReportSchema = z.strictObject({
  report: batteryReportSchema,
  signature: hexSignatureSchema,
});

export type SignedBatteryReport = z.infer<typeof signedBatteryReportSchema>;

/** A state of charge in parts per million as a fraction in [0, 1]. */
export function fractionOfPpm(ppmValue: number): number {
  return ppmValue / PPM;
}

/** A fraction in [0, 1] as parts per million, clamped: a BMS may report a hair outside. */
export function ppmOfFraction(fraction: number): number {
  return Math.min(PPM, Math.max(0, Math.round(fraction * PPM)));
}
