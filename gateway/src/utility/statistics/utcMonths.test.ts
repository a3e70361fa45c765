import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { divideRounded } from "./exportStatistics.js";
import { addMonths, lastDayOf, monthOf, monthsBefore, monthStartMs } from "./utcMonths.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("UTC months", () => {
  it("names, starts and steps months across years", () => {
    assert.equal(monthOf(at("2026-12-31T23:59:59.999Z")), "2026-12");
    assert.equal(iso(monthStartMs("2026-03")), "2026-03-01T00:00:00.000Z");
    assert.equal(addMonths("2026-01", -1), "2025-12");
    assert.equal(addMonths("2026-07", -60), "2021-07");
    assert.equal(lastDayOf("2024-02"), "2024-02-29");
    assert.throws(() => monthStartMs("2026-13"), /not a month/);
  });

  it("goes back calendar months, clamping to the shorter month's end", () => {
    assert.equal(iso(monthsBefore(at("2026-08-31T12:00:00Z"), 6)), "2026-02-28T12:00:00.000Z");
    assert.equal(iso(monthsBefore(at("2024-08-31T00:00:01Z"), 6)), "2024-02-29T00:00:01.000Z");
    assert.equal(iso(monthsBefore(at("2026-03-15T08:30:00Z"), 6)), "2025-09-15T08:30:00.000Z");
  });
});

describe("divideRounded", () => {
  it("rounds halves away from zero, exactly", () => {
    assert.deepEqual(
      [
        [3n, 2n],
        [-3n, 2n],
        [5n, 4n],
        [-5n, 4n],
        [7n, 4n],
        [-7n, 4n],
        [10n ** 30n + 1n, 2n],
      ].map(([a, b]) => divideRounded(a!, b!)),
      [2n, -2n, 1n, -1n, 2n, -2n, 5n * 10n ** 29n + 1n],
    );
  });
});
