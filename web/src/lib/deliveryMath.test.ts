import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { buyerMargin, sellerMargin, windowWh } from "./deliveryMath.js";

void describe("forward and option margins", () => {
  void it("counts the whole window's energy, both ends included", () => {
    assert.equal(windowWh(10n, 13n, 500n), 2_000n);
    assert.equal(windowWh(10n, 10n, 1n), 1n);
    assert.throws(() => windowWh(11n, 10n, 1n), /ends before it starts/);
  });

  void it("locks the buyer's worst case and the seller's penalty, rounded up", () => {
    assert.equal(buyerMargin(2_000n, 150_000n), 300_000n);
    assert.equal(sellerMargin(2_000n, 50_001n), 100_002n);
    assert.equal(sellerMargin(1n, 1n), 1n, "a part of a base unit is locked as a whole one");
  });
});
