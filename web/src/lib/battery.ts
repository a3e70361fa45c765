import { fractionOfPpm } from "@gridmesh/contracts";

import type { BatteryState, StoredBatteryReport } from "./gatewayTypes.js";

/** A battery of the report with the partitions it is split into (none for most). */
export interface BatteryGroup {
  battery: BatteryState;
  partitions: BatteryState[];
}

/**
 * The report as the owner thinks of it: each battery that is not itself a partition, with its
 * partitions under it. A partition whose source is missing from the report stands alone.
 */
export function groupBatteries(batteries: readonly BatteryState[]): BatteryGroup[] {
  const groups = batteries
    .filter((b) => b.kind !== "partition")
    .map((b) => ({ battery: b, partitions: [] as BatteryState[] }));
  const byName = new Map(groups.map((g) => [g.battery.name, g]));
  for (const b of batteries) {
    if (b.kind !== "partition") continue;
    const group = byName.get(b.source);
    if (group === undefined) groups.push({ battery: b, partitions: [] });
    else group.partitions.push(b);
  }
  return groups;
}

/** State of charge as a percentage. */
export const socPercent = (b: BatteryState): number => b.stateOfChargePpm / 10_000;

/** Energy held now (watt-hours): charge at the present voltage. */
export const storedWh = (b: BatteryState): number =>
  (b.capacityMah / 1000) * fractionOfPpm(b.stateOfChargePpm) * (b.voltageMv / 1000);

/** Power out of the battery (watts): positive discharging, negative charging. */
export const powerW = (b: BatteryState): number => (b.currentMa / 1000) * (b.voltageMv / 1000);

/** "charging", "discharging" or "idle", with a small dead band for measurement noise. */
export function flowOf(b: BatteryState): "charging" | "discharging" | "idle" {
  if (b.currentMa > 50) return "discharging";
  if (b.currentMa < -50) return "charging";
  return "idle";
}

export interface SocSeries {
  /** Bucket starts (unix seconds) that have at least one report. */
  starts: number[];
  /** One line per battery that is not a partition: mean state of charge (%) in each bucket. */
  lines: { name: string; values: number[] }[];
}

/**
 * Mean state of charge per bucket over `[from, from + buckets × width)`. Buckets without a report
 * are left out rather than drawn as zero: a battery not heard from is not an empty battery.
 */
export function socSeries(
  reports: readonly StoredBatteryReport[],
  from: number,
  width: number,
  buckets: number,
): SocSeries {
  const names = [
    ...new Set(reports.flatMap((r) => r.batteries.filter((b) => b.kind !== "partition").map((b) => b.name))),
  ];
  const sums = names.map(() => Array.from({ length: buckets }, () => ({ total: 0, n: 0 })));
  for (const r of reports) {
    const i = Math.floor((r.takenAt - from) / width);
    if (i < 0 || i >= buckets) continue;
    for (const b of r.batteries) {
      const k = names.indexOf(b.name);
      if (k < 0 || b.error !== "") continue;
      sums[k]![i]!.total += socPercent(b);
      sums[k]![i]!.n += 1;
    }
  }
  const kept = Array.from({ length: buckets }, (_, i) => i).filter((i) => sums.some((s) => s[i]!.n > 0));
  return {
    starts: kept.map((i) => from + i * width),
    lines: names.map((name, k) => ({
      name,
      values: fillGaps(
        kept.map((i) => {
          const { total, n } = sums[k]![i]!;
          return n === 0 ? undefined : total / n;
        }),
      ),
    })),
  };
}

/** A battery missing from some reports (unreadable then) keeps its line: the nearest value stands in. */
function fillGaps(values: (number | undefined)[]): number[] {
  const firstKnown = values.find((v) => v !== undefined) ?? 0;
  let last = firstKnown;
  return values.map((v) => (v === undefined ? last : (last = v)));
}
