/**
 * Partitioning policies (seed 004, "Partitioning Policies"). Partitions are listed top first: P1 is
 * the top partition (tranche A), the last one the bottom.
 */
export type PartitionPolicy = "proportional" | "tranched" | "reserved";

export interface AllocationSlot {
  /** What the partition should hold if the source behaved exactly as expected. */
  readonly expected: number;
  /** Its share of the source, used only when no partition expects anything. */
  readonly fraction: number;
  /** Upper bound (the partition's maximum); 0 is always the lower bound. */
  readonly max?: number;
}

/**
 * Distributes the source's actual `total` over the partitions according to `policy`, within
 * [0, max] for each (Tables III.2.6–III.2.8):
 * - proportional: every partition scales by actual / expected; a partition held at its bound
 *   passes the rest on to the others in proportion;
 * - tranched: a surplus fills the top partition first, a deficit empties the bottom one first;
 * - reserved: surplus and deficit both land on the bottom partition first, so the higher
 *   partitions keep dependable values.
 * What no partition can hold (total above the sum of maxima) stays unallocated.
 */
export function allocate(policy: PartitionPolicy, slots: readonly AllocationSlot[], total: number): number[] {
  const max = slots.map((s) => s.max ?? Infinity);
  if (!(total > 0)) return slots.map(() => 0);
  if (policy === "proportional") return proportional(slots, max, total);

  const result = slots.map((s, i) => clamp(s.expected, 0, max[i]!));
  let delta = total - result.reduce((a, b) => a + b, 0);
  const bottomUp = slots.map((_, i) => slots.length - 1 - i);
  const topDown = slots.map((_, i) => i);
  const order = delta < 0 || policy === "reserved" ? bottomUp : topDown;
  for (const i of order) {
    if (delta === 0) break;
    const room = delta > 0 ? max[i]! - result[i]! : -result[i]!;
    const step = delta > 0 ? Math.min(delta, room) : Math.max(delta, room);
    result[i]! += step;
    delta -= step;
  }
  return result;
}

function proportional(slots: readonly AllocationSlot[], max: readonly number[], total: number): number[] {
  const weights = slots.map((s) => Math.max(0, s.expected));
  let byFraction = false;
  const result = slots.map(() => 0);
  const open = new Set(slots.keys());
  let remaining = total;
  // Water-filling: each round either settles every open partition or pins at least one at its
  // maximum, so it ends within slots.length rounds.
  while (open.size > 0 && remaining > 0) {
    const weight = [...open].reduce((a, i) => a + weights[i]!, 0);
    if (weight === 0) {
      // Nobody left expects anything (e.g. they were all emptied): share by size instead.
      if (byFraction) break;
      byFraction = true;
      for (const i of open) weights[i] = Math.max(0, slots[i]!.fraction);
      continue;
    }
    const pinned = [...open].filter((i) => (remaining * weights[i]!) / weight >= max[i]!);
    if (pinned.length === 0) {
      for (const i of open) result[i] = (remaining * weights[i]!) / weight;
      break;
    }
    for (const i of pinned) {
      result[i] = max[i]!;
      remaining -= max[i]!;
      open.delete(i);
    }
  }
  return result;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
