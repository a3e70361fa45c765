import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { lockFor, valueOf } from "./settlementMath.js";

void describe("settlement math", () => {
  void it("rounds what is paid down and what is locked up, so locks always cover payments", () => {
    assert.equal(valueOf(1n, 1999n), 1n);
    assert.equal(lockFor(1n, 1999n), 2n);
    assert.equal(valueOf(1500n, 120_000n), 180_000n);
    assert.equal(lockFor(1500n, 120_000n), 180_000n);
    for (const [wh, price] of [
      [7n, 333n],
      [1n, 1n],
      [281_474_976_710_655n, 79_228_162_514_264_337_593_543_950_335n],
    ] as const) {
      assert.ok(lockFor(wh, price) >= valueOf(wh, price));
      assert.ok(lockFor(wh, price) - valueOf(wh, price) <= 1n);
    }
  });
});
