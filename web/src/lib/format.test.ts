import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatDuration, shortAddress } from "./format.js";

void describe("display helpers", () => {
  void it("shortens addresses but keeps short strings whole", () => {
    assert.equal(shortAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), "0x7099…79C8");
    assert.equal(shortAddress("0x1234"), "0x1234");
  });
  void it("formats durations at the scale that matters", () => {
    assert.equal(formatDuration(12.4), "12 s");
    assert.equal(formatDuration(250), "4 min 10 s");
    assert.equal(formatDuration(7500), "2 h 05 min");
    assert.equal(formatDuration(-3), "0 s");
  });
});
