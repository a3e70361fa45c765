import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { StoredReading, Trade } from "./gatewayTypes.js";
import { bucketize } from "./periods.js";

const me = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const other = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const reading = (interval: number, imp: [number, number], exp: [number, number]) =>
  ({
    reading: {
      meter: me,
      interval: String(interval),
      sequence: "1",
      importStartWh: String(imp[0]),
      importEndWh: String(imp[1]),
      exportStartWh: String(exp[0]),
      exportEndWh: String(exp[1]),
      timestamp: "0",
    },
  }) as unknown as StoredReading;
const trade = (interval: number, seller: string, buyer: string, wh: number, price: number) =>
  ({
    interval: String(interval),
    wh: String(wh),
    price: String(price),
    seller: { orderId: "1", owner: seller, meter: null },
    buyer: { orderId: "2", owner: buyer, meter: null },
  }) as unknown as Trade;

void describe("dashboard buckets", () => {
  // Hour period, 12 buckets of 300 s; 900-second intervals; now = 3600 × 1000.
  const now = 3_600_000;
  const t0 = (now - 3_600) / 900; // the first interval inside the period

  void it("sums each reading's register deltas into the bucket of the interval it covers", () => {
    const b = bucketize({
      now,
      period: "hour",
      intervalSeconds: 900,
      account: me,
      readings: [
        reading(t0, [100, 130], [50, 50]),
        reading(t0 + 3, [130, 131], [50, 450]),
        reading(t0 - 1, [0, 100], [0, 0]),
      ],
      trades: [],
    });
    assert.equal(b.importedWh[0], 30);
    assert.equal(b.exportedWh[9], 400);
    assert.equal(
      b.importedWh.reduce((a, x) => a + x, 0),
      31,
      "a reading before the period is left out",
    );
  });

  void it("counts sales as earnings and purchases as spending, at the contract's rounding", () => {
    const b = bucketize({
      now,
      period: "hour",
      intervalSeconds: 900,
      account: me.toUpperCase().replace("0X", "0x"),
      readings: [],
      trades: [trade(t0 + 1, me, other, 1_500, 120_001), trade(t0 + 2, other, me, 1, 999)],
    });
    assert.equal(b.earned[3], 180_001n);
    assert.equal(b.spent[6], 0n);
    assert.equal(
      b.spent.reduce((a, x) => a + x, 0n),
      0n,
    );
  });
});
