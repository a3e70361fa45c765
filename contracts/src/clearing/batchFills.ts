import type { ClearingFill } from "./pairFills.js";

/**
 * Splits a clearing's fills into submitClearing batches of at most `size`, in order, so each batch
 * stays sorted by offer id; the last batch is the one to send with `isFinal`. No fills, no batches
 * (the contract refuses an empty one).
 */
export function batchFills(fills: readonly ClearingFill[], size: number): ClearingFill[][] {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`batch size must be a positive whole number, got ${size}`);
  }
  const batches: ClearingFill[][] = [];
  for (let i = 0; i < fills.length; i += size) batches.push(fills.slice(i, i + size));
  return batches;
}
