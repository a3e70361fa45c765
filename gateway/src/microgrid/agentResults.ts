import { z } from "zod";

/**
 * The parts of meter agents' command results (meter-agent commandExecutor.ts) the controller acts
 * on. Objects are not strict: an agent newer than this controller may report more.
 */

const sequence = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, "must be a decimal sequence")
  .transform((s) => BigInt(s));

const billingRates = z.object({
  month: z.string(),
  peakRate: z.string(),
  offPeakRate: z.string(),
  peakStartHour: z.int(),
  peakEndHour: z.int(),
});

export const agentStatusSchema = z.object({
  isOn: z.boolean(),
  sharingPower: z.boolean(),
  aggregating: z.boolean(),
  reducingPowerDemand: z.boolean(),
  dataIntervalSeconds: z.int(),
  /** Null without a battery, or when the agent could not read it. */
  batteryStateOfCharge: z.number().min(0).max(1).nullable(),
  lastReading: z.object({ reading: z.object({ sequence }) }).nullable(),
  billingRates: z.array(billingRates).default([]),
});

export type AgentStatus = z.output<typeof agentStatusSchema>;

/** Readings stay unparsed here: each is checked on its own, and stored exactly as received. */
export const agentReadingsPageSchema = z.object({ readings: z.array(z.unknown()), more: z.boolean() });

/** Parses `result` with `schema`, or says in one line what is wrong with it. */
export function parseResult<S extends z.ZodType>(
  schema: S,
  result: unknown,
): { ok: true; value: z.output<S> } | { ok: false; problem: string } {
  const parsed = schema.safeParse(result);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problem: parsed.error.issues.map((i) => `${i.path.join(".") || "result"}: ${i.message}`).join("; "),
  };
}
