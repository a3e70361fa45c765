import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { compactNumber, depthSteps, extent, linearScale } from "./chartGeometry.js";

void describe("chart geometry", () => {
  void it("maps a domain linearly onto a range, flipped for SVG's downward y", () => {
    const y = linearScale([0, 100], [200, 0]);
    assert.equal(y(0), 200);
    assert.equal(y(100), 0);
    assert.equal(y(25), 150);
    assert.equal(linearScale([5, 5], [0, 10])(5), 5);
  });

  void it("finds the extent, widened to include zero for bars", () => {
    assert.deepEqual(extent([3, 9, 4]), [3, 9]);
    assert.deepEqual(extent([3, 9, 4], 0), [0, 9]);
    assert.deepEqual(extent([]), [0, 1]);
  });

  void it("steps a depth curve: flat until the next level, then up to its cumulative volume", () => {
    assert.deepEqual(
      depthSteps([
        { price: 100, cumulativeWh: 500 },
        { price: 120, cumulativeWh: 800 },
      ]),
      [
        [100, 0],
        [100, 500],
        [120, 500],
        [120, 800],
      ],
    );
  });

  void it("writes axis labels compactly", () => {
    assert.equal(compactNumber(1234), "1.2k");
    assert.equal(compactNumber(2_500_000), "2.5M");
    assert.equal(compactNumber(0.125), "0.13");
    assert.equal(compactNumber(0.0025), "0.0025", "a small amount is not rounded to 0");
    assert.equal(compactNumber(0), "0");
    assert.equal(compactNumber(3.14159), "3.1");
    assert.equal(compactNumber(42), "42");
  });
});
