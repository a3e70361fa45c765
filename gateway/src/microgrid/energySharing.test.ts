import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decideSharing, type BatteryMeterView } from "./energySharing.js";

const meter = (
  name: string,
  stateOfCharge: number | null,
  sharing = false,
  threshold = 0.3,
): BatteryMeterView => ({
  meter: name,
  threshold,
  stateOfCharge,
  sharing,
});

void describe("decideSharing", () => {
  it("turns sharing on for batteries above their threshold when one is below its own", () => {
    const decision = decideSharing([meter("low", 0.1), meter("high", 0.8), meter("mid", 0.5, false, 0.6)]);
    assert.deepEqual(decision, { on: [{ meter: "high", batteryThreshold: 0.3 }], off: [] });
  });

  it("sends nothing to batteries already sharing, and keeps them sharing while one is low", () => {
    const decision = decideSharing([meter("low", 0.2), meter("high", 0.9, true), meter("other", 0.7)]);
    assert.deepEqual(decision.on, [{ meter: "other", batteryThreshold: 0.3 }]);
    assert.deepEqual(decision.off, []);
  });

  it("stops every sharing battery once none is below its threshold", () => {
    const decision = decideSharing([
      meter("a", 0.3),
      meter("b", 0.9, true),
      meter("c", null, true),
      meter("d", 0.5),
    ]);
    assert.deepEqual(decision, { on: [], off: ["b", "c"] });
  });

  it("a battery exactly at its threshold neither needs nor gives power", () => {
    assert.deepEqual(decideSharing([meter("a", 0.3), meter("b", 0.3)]), { on: [], off: [] });
    assert.deepEqual(decideSharing([meter("low", 0.29), meter("at", 0.3)]), { on: [], off: [] });
  });

  it("does not act on a battery whose charge is unknown", () => {
    assert.deepEqual(decideSharing([meter("unknown", null), meter("high", 0.9)]), { on: [], off: [] });
    assert.deepEqual(decideSharing([meter("low", 0.1), meter("unknown", null)]), { on: [], off: [] });
  });

  it("uses each battery's own threshold", () => {
    const decision = decideSharing([meter("a", 0.5, false, 0.6), meter("b", 0.5, false, 0.2)]);
    assert.deepEqual(decision.on, [{ meter: "b", batteryThreshold: 0.2 }]);
  });
});
