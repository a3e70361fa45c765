import { signedReadingSchema, type SignedReading } from "@gridmesh/contracts";

import type { SignerRecovery } from "../../relay/signerRecovery.js";

export interface ReadingCheckContext {
  controllerId: string;
  /** Lower-case addresses of the controller's meters in smart_meters. */
  meters: ReadonlySet<string>;
  recovery: SignerRecovery;
  intervalSeconds: number;
}

/** A reading that passed every check, or one refused with the reason stored beside it. */
export type CheckedReading =
  { ok: true; raw: unknown; signed: SignedReading } | { ok: false; raw: unknown; reason: string };

const BIGINT_MAX = (1n << 63n) - 1n;
/** 10000-01-01T00:00:00Z: the end of what a TIMESTAMPTZ prints as an ordinary date. */
const LAST_SECOND = 253_402_300_800n;

/**
 * Checks one hour of a controller's readings, each on its own, so that one bad reading is refused
 * with its reason while the rest are stored: the wire shape (signedReadingSchema), that the meter is
 * one of this controller's, that every value fits the CIDB's columns, and that the EIP-712
 * signature recovers to the meter. Signatures are handed to the recovery all at once, so a worker
 * pool checks them in parallel.
 */
export async function checkReadings(
  raws: readonly unknown[],
  context: ReadingCheckContext,
): Promise<CheckedReading[]> {
  const staged = raws.map((raw) => ({ raw, ...stage(raw, context) }));
  const signers = staged.map((s) =>
    s.signed === undefined ? undefined : context.recovery.recover(s.signed.reading, s.signed.signature),
  );
  // Awaited in order below; a rejection must not surface as unhandled meanwhile.
  for (const pending of signers) pending?.catch(() => undefined);
  const checked: CheckedReading[] = [];
  for (const [i, s] of staged.entries()) {
    if (s.signed === undefined) {
      checked.push({ ok: false, raw: s.raw, reason: s.reason });
      continue;
    }
    const signer = await signers[i]!;
    const meter = s.signed.reading.meter;
    if (signer === null) checked.push({ ok: false, raw: s.raw, reason: "signature does not decode" });
    else if (signer.toLowerCase() !== meter.toLowerCase())
      checked.push({ ok: false, raw: s.raw, reason: `signed by ${signer}, not by meter ${meter}` });
    else checked.push({ ok: true, raw: s.raw, signed: s.signed });
  }
  return checked;
}

/** The checks that need no signature recovery. */
function stage(
  raw: unknown,
  context: ReadingCheckContext,
): { signed: SignedReading; reason?: undefined } | { signed?: undefined; reason: string } {
  const parsed = signedReadingSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `${i.path.map(String).join(".") || "reading"}: ${i.message}`,
    );
    return { reason: `malformed reading: ${issues.join("; ")}` };
  }
  const signed = parsed.data;
  const r = signed.reading;
  const meter = r.meter.toLowerCase();
  if (!context.meters.has(meter))
    return { reason: `meter ${meter} is not a meter of controller ${context.controllerId}` };
  for (const [field, value] of Object.entries(r)) {
    if (typeof value === "bigint" && value > BIGINT_MAX)
      return { reason: `${field} ${value} exceeds the CIDB's range (2^63 - 1)` };
  }
  if ((r.interval + 1n) * BigInt(context.intervalSeconds) > LAST_SECOND)
    return { reason: `interval ${r.interval} ends after the year 9999` };
  return { signed };
}
