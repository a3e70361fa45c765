import type { MeterReading } from "@gridmesh/contracts";

/** One interval's own energy, from its start and end registers. */
export interface IntervalDelta {
  sequence: string;
  interval: string;
  importWh: string;
  exportWh: string;
}

/**
 * Two neighbouring readings that do not join up: intervals between them that no reading covers, or
 * registers that moved between one reading's end and the next one's start.
 */
export interface ReadingGap {
  afterSequence: string;
  beforeSequence: string;
  /** How many intervals lie between the two readings (0 when they are neighbours). */
  missingIntervals: string;
  /**
   * Energy the registers recorded between the two readings, which no interval carries; null when a
   * register went backwards (a replaced or reset meter), so the amount is unknown.
   */
  importWh: string | null;
  exportWh: string | null;
}

export interface ReadingAggregate {
  fromSequence: string;
  toSequence: string;
  lossless: boolean;
  readings: number;
  firstInterval: string | null;
  lastInterval: string | null;
  /** Sums of the readings' own deltas; energy in `gaps` is not included. */
  importWh: string;
  exportWh: string;
  /** Sequences in the range the store no longer (or not yet) holds, as inclusive ranges. */
  missingSequences: { from: string; to: string }[];
  gaps: ReadingGap[];
  /** Every reading's own values, present only when `lossless`. */
  intervals?: IntervalDelta[];
}

/**
 * Sums readings `fromSequence..toSequence` (`readings` are the ones the store holds in that range,
 * in sequence order). Lossy aggregation keeps the totals; lossless keeps every interval too, so the
 * controller can rebuild the readings' energy exactly. Gaps are reported either way: a total that
 * silently skips a missing interval would be billed as if nothing was used.
 */
export function aggregateReadings(
  readings: readonly MeterReading[],
  fromSequence: bigint,
  toSequence: bigint,
  lossless: boolean,
): ReadingAggregate {
  let importWh = 0n;
  let exportWh = 0n;
  const missingSequences: { from: string; to: string }[] = [];
  const gaps: ReadingGap[] = [];
  const intervals: IntervalDelta[] = [];
  const missing = (from: bigint, to: bigint) => {
    if (from <= to) missingSequences.push({ from: from.toString(), to: to.toString() });
  };

  let expected = fromSequence;
  let previous: MeterReading | undefined;
  for (const r of readings) {
    missing(expected, r.sequence - 1n);
    expected = r.sequence + 1n;
    importWh += r.importEndWh - r.importStartWh;
    exportWh += r.exportEndWh - r.exportStartWh;
    if (lossless) {
      intervals.push({
        sequence: r.sequence.toString(),
        interval: r.interval.toString(),
        importWh: (r.importEndWh - r.importStartWh).toString(),
        exportWh: (r.exportEndWh - r.exportStartWh).toString(),
      });
    }
    if (previous !== undefined) {
      const gap = gapBetween(previous, r);
      if (gap !== undefined) gaps.push(gap);
    }
    previous = r;
  }
  missing(expected, toSequence);

  return {
    fromSequence: fromSequence.toString(),
    toSequence: toSequence.toString(),
    lossless,
    readings: readings.length,
    firstInterval: readings[0]?.interval.toString() ?? null,
    lastInterval: readings.at(-1)?.interval.toString() ?? null,
    importWh: importWh.toString(),
    exportWh: exportWh.toString(),
    missingSequences,
    gaps,
    ...(lossless && { intervals }),
  };
}

function gapBetween(a: MeterReading, b: MeterReading): ReadingGap | undefined {
  const missingIntervals = b.interval - a.interval - 1n;
  const importWh = b.importStartWh - a.importEndWh;
  const exportWh = b.exportStartWh - a.exportEndWh;
  if (missingIntervals === 0n && importWh === 0n && exportWh === 0n) return undefined;
  const reset = importWh < 0n || exportWh < 0n;
  return {
    afterSequence: a.sequence.toString(),
    beforeSequence: b.sequence.toString(),
    missingIntervals: missingIntervals.toString(),
    importWh: reset ? null : importWh.toString(),
    exportWh: reset ? null : exportWh.toString(),
  };
}
