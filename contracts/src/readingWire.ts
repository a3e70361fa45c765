import { z } from "zod";

import type { Address, Hex, MeterReading } from "./typedData.js";

/**
 * Signed readings as JSON, the form they take between meter agents, microgrid controllers and the
 * gateway. uint64 fields travel as decimal strings (JSON numbers lose precision above 2^53); the one
 * schema here is what every sender writes and every receiver checks.
 */

export interface SignedReading {
  reading: MeterReading;
  /** The meter key's 65-byte EIP-712 signature over `reading`. */
  signature: Hex;
}

export interface SignedReadingJson {
  reading: Record<keyof MeterReading, string>;
  signature: string;
}

const UINT64_MAX = (1n << 64n) - 1n;

const uint64 = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, "must be a decimal integer string without leading zeros")
  .transform((s) => BigInt(s))
  .refine((n) => n <= UINT64_MAX, "must fit in uint64");

/** An address as signed messages carry it (any case). */
export const hexAddressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte 0x-prefixed hex address")
  .transform((s) => s as Address);

/** A 65-byte ECDSA signature (r, s, v) as hex. */
export const hexSignatureSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-prefixed hex signature")
  .transform((s) => s as Hex);

const readingSchema = z
  .strictObject({
    meter: hexAddressSchema,
    interval: uint64,
    sequence: uint64,
    importStartWh: uint64,
    importEndWh: uint64,
    exportStartWh: uint64,
    exportEndWh: uint64,
    timestamp: uint64,
  })
  .superRefine((r, ctx) => {
    // A register running backwards within one interval can never be a true reading.
    if (r.importEndWh < r.importStartWh)
      ctx.addIssue({ code: "custom", path: ["importEndWh"], message: "is below importStartWh" });
    if (r.exportEndWh < r.exportStartWh)
      ctx.addIssue({ code: "custom", path: ["exportEndWh"], message: "is below exportStartWh" });
  });

export const signedReadingSchema = z.strictObject({
  reading: readingSchema,
  signature: hexSignatureSchema,
});

export const signedReadingBatchSchema = z.strictObject({
  readings: z
    .array(signedReadingSchema)
    .min(1, "must hold at least one reading")
    .max(1000, "holds at most 1000 readings"),
});

export function signedReadingToJson({ reading, signature }: SignedReading): SignedReadingJson {
  return {
    reading: {
      meter: reading.meter,
      interval: reading.interval.toString(),
      sequence: reading.sequence.toString(),
      importStartWh: reading.importStartWh.toString(),
      importEndWh: reading.importEndWh.toString(),
      exportStartWh: reading.exportStartWh.toString(),
      exportEndWh: reading.exportEndWh.toString(),
      timestamp: reading.timestamp.toString(),
    },
    signature,
  };
}

/** Parses one signed reading; throws a `z.ZodError` whose issues name each bad field. */
export function signedReadingFromJson(json: unknown): SignedReading {
  return signedReadingSchema.parse(json);
}

/** The outcome a receiver reports for each reading of a batch, in the batch's order. */
export type ReadingReceipt =
  | { sequence: string; status: "stored" | "duplicate" }
  | { sequence: string; status: "rejected"; error: string };

export const readingReceiptsSchema = z.strictObject({
  results: z.array(
    z.discriminatedUnion("status", [
      z.strictObject({ sequence: z.string(), status: z.enum(["stored", "duplicate"]) }),
      z.strictObject({ sequence: z.string(), status: z.literal("rejected"), error: z.string() }),
    ]),
  ),
});
