import type { MeterReading } from "@gridmesh/contracts";

import type { ReadingSigner } from "../signing/readingSigner.js";
import type { ReadingStore, StoredReading } from "../store/readingStore.js";
import type { RegisterSample } from "./registerSource.js";

export interface ReadingRecorderOptions {
  store: ReadingStore;
  signer: ReadingSigner;
  intervalSeconds: number;
  /**
   * How long after a boundary a sample still counts as taken at it. A later sample would move
   * energy from one interval into its neighbour, so the chain restarts at the next boundary instead.
   */
  toleranceMs: number;
}

export type RecordOutcome =
  | { kind: "recorded"; reading: StoredReading }
  | { kind: "anchored"; interval: bigint; reason: "first" | "gap" | "registers-reset" }
  | { kind: "skipped"; reason: "late" | "already-recorded" };

/**
 * Turns samples taken at interval boundaries into signed readings. A reading for interval t needs
 * the registers at start(t) and at end(t): the first is the stored anchor, the second the sample just
 * taken. The reading and the next anchor are stored in one transaction, so after a crash at any point
 * the agent either has both or neither, and no reading is ever made twice.
 */
export class ReadingRecorder {
  readonly #o: ReadingRecorderOptions;

  constructor(options: ReadingRecorderOptions) {
    if (!Number.isInteger(options.intervalSeconds) || options.intervalSeconds <= 0) {
      throw new RangeError(`intervalSeconds must be a positive whole number, got ${options.intervalSeconds}`);
    }
    this.#o = options;
  }

  /** The boundary at or before `atMs`: the interval starting there. */
  boundaryAt(atMs: number): bigint {
    return BigInt(Math.floor(atMs / 1000 / this.#o.intervalSeconds));
  }

  /** Wall time (ms) of the next boundary after `atMs`. */
  nextBoundaryMs(atMs: number): number {
    return (Number(this.boundaryAt(atMs)) + 1) * this.#o.intervalSeconds * 1000;
  }

  async record(sample: RegisterSample): Promise<RecordOutcome> {
    const { store, signer, intervalSeconds, toleranceMs } = this.#o;
    const k = this.boundaryAt(sample.atMs);
    const lateByMs = sample.atMs - Number(k) * intervalSeconds * 1000;
    if (lateByMs > toleranceMs) return { kind: "skipped", reason: "late" };

    const anchor = store.anchor();
    const next = { interval: k, importWh: sample.importWh, exportWh: sample.exportWh, atMs: sample.atMs };
    if (anchor !== undefined && anchor.interval >= k) return { kind: "skipped", reason: "already-recorded" };
    if (anchor === undefined || anchor.interval !== k - 1n) {
      store.setAnchor(next);
      return { kind: "anchored", interval: k, reason: anchor === undefined ? "first" : "gap" };
    }
    if (sample.importWh < anchor.importWh || sample.exportWh < anchor.exportWh) {
      // A replaced or reset meter: no honest reading spans the reset.
      store.setAnchor(next);
      return { kind: "anchored", interval: k, reason: "registers-reset" };
    }
    const last = store.last();
    const reading: MeterReading = {
      meter: store.meter,
      interval: k - 1n,
      sequence: (last?.reading.sequence ?? 0n) + 1n,
      importStartWh: anchor.importWh,
      importEndWh: sample.importWh,
      exportStartWh: anchor.exportWh,
      exportEndWh: sample.exportWh,
      timestamp: BigInt(Math.floor(sample.atMs / 1000)),
    };
    const signed = await signer.sign(reading);
    return { kind: "recorded", reading: store.append(signed, next, Date.now()) };
  }
}
