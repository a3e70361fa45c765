import { type Contract, Interface } from "ethers";

import { deliveryLedgerAbi } from "../abis.js";
import type { SignedReading } from "../readingWire.js";
import { decodeCustomError } from "./customError.js";
import type { Address } from "../typedData.js";

/** What the DeliveryLedger did with one reading. */
export type LedgerOutcome =
  | { sequence: bigint; status: "recorded" | "duplicate"; txHash?: string }
  /** The ledger can never take this reading (past its deadline, superseded, meter inactive, …). */
  | { sequence: bigint; status: "rejected"; reason: string };

/** The ledger refused for now ("interval not ended", "gap not final"): offer the readings again later. */
export class LedgerNotYetError extends Error {
  override readonly name = "LedgerNotYetError";
}

export interface RecordMeterReadingsOptions {
  /** Blocks to wait for after inclusion. Default 1. */
  confirmations?: number;
  timeoutMs?: number;
}

const ledgerInterface = new Interface(deliveryLedgerAbi);
const NOT_YET = new Set(["DeliveryLedgerIntervalNotEnded", "DeliveryLedgerGapNotFinal"]);

/** The DeliveryLedger's custom error in a failed call, decoded. */
export function ledgerRevert(error: unknown): { name: string; args: unknown[] } | undefined {
  return decodeCustomError(ledgerInterface, error);
}

/**
 * Records one meter's readings on the DeliveryLedger with `recordReadings`, sent by whatever
 * signer `ledger` is connected to (the meter itself, or any relayer: the signature proves origin).
 * The ledger takes each meter's readings in sequence, so they go oldest first, and everything it
 * would refuse is found with a static call first: no gas is spent on a revert, and a reading it can
 * never take is reported as rejected instead of blocking the ones behind it.
 *
 * Returns outcomes for a prefix of the batch in sequence order (the rest is to be offered again);
 * throws LedgerNotYetError when the ledger asks to wait, and the provider's error when unreachable.
 */
export async function recordMeterReadings(
  ledger: Contract,
  meter: Address,
  batch: readonly SignedReading[],
  options: RecordMeterReadingsOptions = {},
): Promise<LedgerOutcome[]> {
  const ordered = [...batch].sort((a, b) => (a.reading.sequence < b.reading.sequence ? -1 : 1));
  const [lastInterval, lastSequence] = (await ledger.getFunction("meterState")(meter)) as [bigint, bigint];
  // Readings at or before the ledger's latest one were recorded already, or can never be.
  const settled: LedgerOutcome[] = [];
  for (const { reading } of ordered) {
    if (lastSequence === 0n || (reading.sequence > lastSequence && reading.interval > lastInterval)) break;
    const [recorded] = (await ledger.getFunction("delivery")(meter, reading.interval)) as [boolean];
    settled.push(
      recorded
        ? { sequence: reading.sequence, status: "duplicate" }
        : {
            sequence: reading.sequence,
            status: "rejected",
            reason: `superseded: the ledger already holds interval ${lastInterval}`,
          },
    );
  }
  if (settled.length > 0) return settled;
  return record(ledger, ordered, options);
}

async function record(
  ledger: Contract,
  ordered: SignedReading[],
  options: RecordMeterReadingsOptions,
): Promise<LedgerOutcome[]> {
  const readings = ordered.map((s) => s.reading);
  const signatures = ordered.map((s) => s.signature);
  const recordReadings = ledger.getFunction("recordReadings");
  try {
    await recordReadings.staticCall(readings, signatures);
  } catch (e) {
    const revert = ledgerRevert(e);
    if (revert === undefined) throw e;
    const { name, args } = revert;
    // The contract checks readings in order and stops at the first it refuses; the ones before
    // it are fine and go alone, so one refusal never holds back the readings ahead of it.
    const at = offendingIndex(name, args, ordered);
    if (at > 0) return record(ledger, ordered.slice(0, at), options);
    const aheadOfChain =
      name === "DeliveryLedgerTimestampOutOfRange" && (args[0] as bigint) > (args[2] as bigint);
    if (NOT_YET.has(name) || aheadOfChain) {
      throw new LedgerNotYetError(`the ledger says wait: ${name}(${args.join(", ")})`);
    }
    const first = ordered[0]!.reading;
    if (name === "DeliveryLedgerReadingAlreadyRecorded")
      return [{ sequence: first.sequence, status: "duplicate" }];
    if (at === -1 && ordered.length > 1) return record(ledger, ordered.slice(0, 1), options);
    return [{ sequence: first.sequence, status: "rejected", reason: `${name}(${args.join(", ")})` }];
  }
  let tx: {
    hash: string;
    wait(confirmations: number, timeoutMs: number): Promise<{ status: number | null } | null>;
  };
  try {
    tx = (await recordReadings(readings, signatures)) as typeof tx;
  } catch (e) {
    resyncNonce(ledger);
    throw e;
  }
  // Inclusion at least: a wait for zero confirmations may never resolve on some providers.
  const receipt = await tx.wait(Math.max(1, options.confirmations ?? 1), options.timeoutMs ?? 60_000);
  if (receipt === null || receipt.status !== 1)
    throw new Error(`recordReadings transaction ${tx.hash} failed`);
  return ordered.map((s) => ({ sequence: s.reading.sequence, status: "recorded", txHash: tx.hash }));
}

/** Which reading of the batch a ledger error is about: -1 when the error does not say. */
function offendingIndex(name: string, args: unknown[], ordered: SignedReading[]): number {
  let interval: unknown;
  if (name === "DeliveryLedgerIntervalNotEnded") interval = args[0];
  else if (name === "DeliveryLedgerGapNotFinal") interval = (args[1] as bigint) + 1n;
  else if (name === "DeliveryLedgerTimestampOutOfRange") {
    return ordered.findIndex((s) => s.reading.timestamp === args[0]);
  } else if (typeof args[0] === "string") interval = args[1]; // (meter, interval, …)
  return typeof interval === "bigint" ? ordered.findIndex((s) => s.reading.interval === interval) : -1;
}

/**
 * After a send that never reached the chain, a NonceManager runner's local count is one ahead of the
 * account's: forget it, so the next transaction asks the node again instead of leaving a gap that
 * would stall every later one. Other runners have nothing to forget.
 */
export function resyncNonce(contract: Contract): void {
  (contract.runner as { reset?: () => void } | null)?.reset?.();
}
