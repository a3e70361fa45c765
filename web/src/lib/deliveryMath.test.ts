import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { buyerMargin, sellerMargin, settlementOf, windowWh } from "./deliveryMath.js";

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

void describe("a schedule's settlement", () => {
  void it("sums its own settled intervals and takes the released margins from its completion", () => {
    const events = [
      { eventName: "DeliverySettled", args: { id: 1n, deliveredWh: 500, paid: 75_000n, penalty: 0n } },
      { eventName: "DeliverySettled", args: { id: 2n, deliveredWh: 9, paid: 1n, penalty: 1n } },
      { eventName: "DeliverySettled", args: { id: 1n, deliveredWh: 300, paid: 45_000n, penalty: 10_000n } },
      { eventName: "ForwardProposed", args: { id: 1n } },
    ];
    const open = settlementOf(events, 1n);
    assert.deepEqual(open, {
      intervals: 2,
      deliveredWh: 800n,
      paid: 120_000n,
      penalty: 10_000n,
      released: undefined,
    });
    const done = settlementOf(
      [
        ...events,
        { eventName: "ScheduleCompleted", args: { id: 1n, sellerReleased: 40_000n, buyerReleased: 30_000n } },
      ],
      1n,
    );
    assert.deepEqual(done.released, { seller: 40_000n, buyer: 30_000n });
  });
});
