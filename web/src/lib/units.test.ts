import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatEnergy, formatMoney, formatUnits, parseUnits } from "./units.js";

describe("formatUnits / parseUnits", () => {
  it("formats exactly, trimming only trailing zeros", () => {
    assert.equal(formatUnits(1_234_500n, 6), "1.2345");
    assert.equal(formatUnits(1_000_000n, 6), "1");
    assert.equal(formatUnits(1n, 6), "0.000001");
    assert.equal(formatUnits(-1_500_000n, 6), "-1.5");
    assert.equal(formatUnits(42n, 0), "42");
    assert.equal(
      formatUnits(2n ** 255n, 6),
      "57896044618658097711785492504343953926634992332820282019728792003956564.819968",
    );
  });

  it("round-trips any amount", () => {
    for (const amount of [0n, 1n, 999_999n, 1_000_000n, 123_456_789_012n, -7n]) {
      assert.equal(parseUnits(formatUnits(amount, 6), 6), amount);
    }
  });

  it("parses what people type and refuses what it would have to round", () => {
    assert.equal(parseUnits("12.5", 6), 12_500_000n);
    assert.equal(parseUnits(" .25 ", 6), 250_000n);
    assert.equal(parseUnits("3.", 6), 3_000_000n);
    assert.throws(() => parseUnits("0.0000001", 6), /more than 6 decimal places/);
    assert.throws(() => parseUnits("1e3", 6), /is not a number/);
    assert.throws(() => parseUnits(".", 6), /is not a number/);
    assert.throws(() => parseUnits("", 6), /is not a number/);
  });
});

describe("formatEnergy / formatMoney", () => {
  it("shows small energies in Wh and larger ones in kWh", () => {
    assert.equal(formatEnergy(999n), "999 Wh");
    assert.equal(formatEnergy(1_000n), "1 kWh");
    assert.equal(formatEnergy(12_345n), "12.345 kWh");
    assert.equal(formatEnergy(-2_500n), "-2.5 kWh");
  });

  it("shows money with at least cents", () => {
    assert.equal(formatMoney(1_500_000n, 6, "gUSD"), "1.50 gUSD");
    assert.equal(formatMoney(1_234_567n, 6, "gUSD"), "1.234567 gUSD");
    assert.equal(formatMoney(0n, 6, "gUSD"), "0.00 gUSD");
  });
});
