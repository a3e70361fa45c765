import type { SignedReading } from "@gridmesh/contracts";

import { INTERVAL_SECONDS } from "./meterAgentProcess.js";

/** A month's rates as the billing API takes them: token base units per kWh, peak hours [start, end) UTC. */
export interface MonthRates {
  month: string;
  peakRate: bigint;
  offPeakRate: bigint;
  peakStartHour: number;
  peakEndHour: number;
}

export interface ExpectedBill {
  importWh: bigint;
  exportWh: bigint;
  peakWh: bigint;
  offPeakWh: bigint;
  peakAmount: bigint;
  offPeakAmount: bigint;
  creditAmount: bigint;
  subtotal: bigint;
  totalDue: bigint;
  nextBaseBill: bigint;
  baseBillRule: "reduced" | "increased" | "capped" | "unchanged";
}

/** Wh × rate per kWh / 1000, to the nearest base unit, halves up. */
const charge = (wh: bigint, ratePerKwh: bigint) => (2n * wh * ratePerKwh + 1000n) / 2000n;

/**
 * An account's bill worked out by hand from its meters' own readings (seed 000 §2.2.4), without the
 * utility's SQL: every reading whose interval starts in the month (UTC) counts whole; its import is
 * charged at the peak rate when the interval starts in a peak hour and at the non-peak rate
 * otherwise; its export is credited at the non-peak rate. A negative total is billed as zero and
 * lowers the next base bill by 25%; a positive one raises it by 25%, never above the initial base
 * bill (both rounded down). Intervals are five minutes, so none straddles an hour or the month's end.
 */
export function expectedBill(
  readings: readonly SignedReading[],
  rates: MonthRates,
  baseBill: bigint,
  initialBaseBill: bigint,
): ExpectedBill {
  const [year, month] = rates.month.split("-").map(Number) as [number, number];
  const from = Date.UTC(year, month - 1, 1) / 1000;
  const to = Date.UTC(year, month, 1) / 1000;
  let [importWh, exportWh, peakWh] = [0n, 0n, 0n];
  for (const { reading } of readings) {
    const start = Number(reading.interval) * INTERVAL_SECONDS;
    if (start < from || start >= to) continue;
    const imported = reading.importEndWh - reading.importStartWh;
    importWh += imported;
    exportWh += reading.exportEndWh - reading.exportStartWh;
    const hour = new Date(start * 1000).getUTCHours();
    if (hour >= rates.peakStartHour && hour < rates.peakEndHour) peakWh += imported;
  }
  const offPeakWh = importWh - peakWh;
  const peakAmount = charge(peakWh, rates.peakRate);
  const offPeakAmount = charge(offPeakWh, rates.offPeakRate);
  const creditAmount = charge(exportWh, rates.offPeakRate);
  const subtotal = baseBill + peakAmount + offPeakAmount - creditAmount;
  const raised = (baseBill * 5n) / 4n;
  const [nextBaseBill, baseBillRule] =
    subtotal < 0n
      ? [(baseBill * 3n) / 4n, "reduced" as const]
      : subtotal > 0n
        ? raised > initialBaseBill
          ? [initialBaseBill, "capped" as const]
          : [raised, "increased" as const]
        : [baseBill, "unchanged" as const];
  return {
    importWh,
    exportWh,
    peakWh,
    offPeakWh,
    peakAmount,
    offPeakAmount,
    creditAmount,
    subtotal,
    totalDue: subtotal < 0n ? 0n : subtotal,
    nextBaseBill,
    baseBillRule,
  };
}
