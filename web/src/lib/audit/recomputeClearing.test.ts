import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { computeClearing, type Address } from "@gridmesh/contracts";

import { auditClearing, type IntervalEvents } from "./recomputeClearing.js";

const alice = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Address;
const bob = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as Address;
const carol = "0x90f79bf6eb2c4f870365e785982e1f101e93b906" as Address;

const book: Omit<IntervalEvents, "batches"> = {
  offers: [
    { orderId: 1n, owner: alice, maxWh: 1_000n, minPricePerKwh: 100_000n },
    { orderId: 3n, owner: carol, maxWh: 800n, minPricePerKwh: 140_000n },
  ],
  bids: [{ orderId: 2n, owner: bob, maxWh: 1_500n, maxPricePerKwh: 150_000n }],
  cancelled: [],
};

function honest(events: Omit<IntervalEvents, "batches">) {
  const r = computeClearing({
    offers: events.offers.map((o) => ({
      id: o.orderId,
      owner: o.owner,
      minPricePerKwh: o.minPricePerKwh,
      wh: o.maxWh,
    })),
    bids: events.bids.map((b) => ({
      id: b.orderId,
      owner: b.owner,
      maxPricePerKwh: b.maxPricePerKwh,
      wh: b.maxWh,
    })),
  });
  return [{ batch: 0, price: r.price, fills: r.fills }];
}

void describe("auditing a clearing from chain events", () => {
  void it("matches the clearing the auction gives", () => {
    const audit = auditClearing({ ...book, batches: honest(book) });
    assert.equal(audit.matches, true, audit.differences.join("; "));
    assert.equal(audit.recomputed.price, 140_000n);
    assert.equal(audit.onChain.volumeWh, 1_500n);
  });

  void it("finds a price the auction does not give", () => {
    const [batch] = honest(book);
    const audit = auditClearing({ ...book, batches: [{ ...batch!, price: 150_000n }] });
    assert.equal(audit.matches, false);
    assert.deepEqual(audit.differences, ["price 150000 was submitted; the auction gives 140000"]);
  });

  void it("finds fills moved from one seller to another, even at the same total volume", () => {
    const audit = auditClearing({
      ...book,
      batches: [
        {
          batch: 0,
          price: 140_000n,
          fills: [
            { offerId: 1n, bidId: 2n, wh: 700n },
            { offerId: 3n, bidId: 2n, wh: 800n },
          ],
        },
      ],
    });
    assert.equal(audit.matches, false);
    assert.ok(
      audit.differences.some((d) => /offer 1 filled bid 2 with 700 Wh; the auction gives 1000 Wh/.test(d)),
    );
  });

  void it("leaves cancelled orders out of the book, and expects no clearing when nothing crosses", () => {
    const withCancel = { ...book, cancelled: [2n] };
    assert.equal(auditClearing({ ...withCancel, batches: [] }).matches, true);
    const audit = auditClearing({ ...withCancel, batches: honest(book) });
    assert.equal(audit.matches, false);
    assert.deepEqual(audit.differences.slice(0, 1), ["nothing should trade, yet a clearing was submitted"]);
  });

  void it("notices a clearing that should exist but was never submitted", () => {
    const audit = auditClearing({ ...book, batches: [] });
    assert.equal(audit.matches, false);
    assert.match(audit.differences[0]!, /1500 Wh should trade at 140000, but no clearing was submitted/);
  });
});
