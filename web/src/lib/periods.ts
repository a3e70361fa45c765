import { valueOf } from "@gridmesh/contracts";

import type { StoredReading, Trade } from "./gatewayTypes.js";

export const periods = {
  hour: { label: "Last hour", seconds: 3_600, buckets: 12 },
  day: { label: "Last day", seconds: 86_400, buckets: 24 },
  week: { label: "Last week", seconds: 7 * 86_400, buckets: 28 },
} as const;
export type PeriodKey = keyof typeof periods;

export interface Buckets {
  /** Each bucket's start, unix seconds. */
  starts: number[];
  importedWh: number[];
  exportedWh: number[];
  earned: bigint[];
  spent: bigint[];
}

/**
 * Sums readings and trades into equal buckets over the period ending at `now`: energy by the
 * interval each reading covers, money by the interval each fill traded in (what a settled sale
 * paid or a purchase cost: wh × price, rounded down as the contract pays).
 */
export function bucketize(p: {
  now: number;
  period: PeriodKey;
  intervalSeconds: number;
  account: string;
  readings: readonly StoredReading[];
  trades: readonly Trade[];
}): Buckets {
  const { seconds, buckets } = periods[p.period];
  const width = seconds / buckets;
  const from = p.now - seconds;
  const starts = Array.from({ length: buckets }, (_, i) => Math.round(from + i * width));
  const out: Buckets = {
    starts,
    importedWh: starts.map(() => 0),
    exportedWh: starts.map(() => 0),
    earned: starts.map(() => 0n),
    spent: starts.map(() => 0n),
  };
  const slot = (interval: number) => {
    const i = Math.floor((interval * p.intervalSeconds - from) / width);
    return i >= 0 && i < buckets ? i : undefined;
  };
  for (const { reading } of p.readings) {
    const i = slot(Number(reading.interval));
    if (i === undefined) continue;
    out.importedWh[i]! += Number(reading.importEndWh) - Number(reading.importStartWh);
    out.exportedWh[i]! += Number(reading.exportEndWh) - Number(reading.exportStartWh);
  }
  const me = p.account.toLowerCase();
  for (const t of p.trades) {
    const i = slot(Number(t.interval));
    if (i === undefined) continue;
    const amount = valueOf(BigInt(t.wh), BigInt(t.price));
    if (t.seller.owner?.toLowerCase() === me) out.earned[i]! += amount;
    if (t.buyer.owner?.toLowerCase() === me) out.spent[i]! += amount;
  }
  return out;
}
