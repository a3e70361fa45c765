import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decidePurchase } from "./purchasePolicy.js";

const battery = { capacityWh: 100_000n, criticalWh: 20_000n };

describe("Purchase_power's rule", () => {
  it("off peak, buys what keeps the battery full", () => {
    assert.deepEqual(decidePurchase({ ...battery, chargeWh: 64_500n, peak: false }), {
      wh: 35_500n,
      reason: "off_peak_refill",
    });
  });

  it("off peak with a full battery, buys nothing", () => {
    assert.deepEqual(decidePurchase({ ...battery, chargeWh: 100_000n, peak: false }), {
      wh: 0n,
      reason: undefined,
    });
  });

  it("in peak hours, buys nothing while the battery is above its critical level", () => {
    assert.equal(decidePurchase({ ...battery, chargeWh: 20_000n, peak: true }).wh, 0n);
    assert.equal(decidePurchase({ ...battery, chargeWh: 50_000n, peak: true }).wh, 0n);
  });

  it("in peak hours, buys back up to the critical level only when critically low", () => {
    assert.deepEqual(decidePurchase({ ...battery, chargeWh: 19_999n, peak: true }), {
      wh: 1n,
      reason: "critical_refill",
    });
    assert.deepEqual(decidePurchase({ ...battery, chargeWh: 0n, peak: true }), {
      wh: 20_000n,
      reason: "critical_refill",
    });
  });

  it("never asks for more than one purchase may carry", () => {
    assert.deepEqual(decidePurchase({ ...battery, chargeWh: 0n, peak: false, maxPurchaseWh: 30_000n }), {
      wh: 30_000n,
      reason: "off_peak_refill",
    });
  });
});
