import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { allocate, type AllocationSlot } from "./allocate.js";

/** P1 (top) 50 %, P2 30 %, P3 (bottom) 20 % of a battery expected to hold 100. */
const partitions = (max?: readonly number[]): AllocationSlot[] =>
  [50, 30, 20].map((expected, i) => ({ expected, fraction: expected / 100, max: max?.[i] }));

function closeAll(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-9, `[${i}] ${a} ≠ ${expected[i]}`));
}

describe("allocate", () => {
  it("Table III.2.6: a deficit (actual 90 of expected 100)", () => {
    closeAll(allocate("proportional", partitions(), 90), [45, 27, 18]);
    closeAll(allocate("tranched", partitions(), 90), [50, 30, 10]);
    closeAll(allocate("reserved", partitions(), 90), [50, 30, 10]);
  });

  it("Table III.2.7: a surplus (actual 110 of expected 100)", () => {
    closeAll(allocate("proportional", partitions(), 110), [55, 33, 22]);
    closeAll(allocate("tranched", partitions(), 110), [60, 30, 20]);
    closeAll(allocate("reserved", partitions(), 110), [50, 30, 30]);
  });

  it("Table III.2.8: the surplus stops at each partition's maximum (62.5, 37.5, 25 of 125)", () => {
    const max = [62.5, 37.5, 25];
    closeAll(allocate("reserved", partitions(max), 110), [50, 35, 25]);
    // The other policies under the same bounds: neither reaches a maximum here.
    closeAll(allocate("tranched", partitions(max), 110), [60, 30, 20]);
    closeAll(allocate("proportional", partitions(max), 110), [55, 33, 22]);
  });

  it("bounds a deficit at 0 and carries the rest to the next partition up", () => {
    closeAll(allocate("tranched", partitions(), 70), [50, 20, 0]);
    closeAll(allocate("reserved", partitions(), 40), [40, 0, 0]);
    closeAll(allocate("proportional", partitions(), 0), [0, 0, 0]);
  });

  it("tranched surplus spills from the top partition down once it is full", () => {
    closeAll(allocate("tranched", partitions([55, 40, 40]), 120), [55, 40, 25]);
  });

  it("proportional passes what a full partition cannot hold on to the others", () => {
    closeAll(allocate("proportional", partitions([52, 100, 100]), 110), [52, 34.8, 23.2]);
  });

  it("leaves unallocated what exceeds every maximum", () => {
    closeAll(allocate("reserved", partitions([50, 30, 20]), 130), [50, 30, 20]);
    closeAll(allocate("proportional", partitions([50, 30, 20]), 130), [50, 30, 20]);
  });

  it("proportional falls back to fractions when nobody expects anything", () => {
    const empty = [0, 0, 0].map((expected, i) => ({ expected, fraction: [0.5, 0.3, 0.2][i]! }));
    closeAll(allocate("proportional", empty, 10), [5, 3, 2]);
  });
});
