import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { intervalAt, intervalTimes, nextOpenInterval } from "./intervals.js";

const quarterHour = { intervalSeconds: 900, gateClosureSeconds: 60 };

describe("interval schedule", () => {
  it("numbers intervals from the unix epoch", () => {
    assert.equal(intervalAt(quarterHour, 0), 0);
    assert.equal(intervalAt(quarterHour, 899), 0);
    assert.equal(intervalAt(quarterHour, 900), 1);
    assert.deepEqual(intervalTimes(quarterHour, 2), { start: 1800, end: 2700, gateClosure: 1740 });
  });

  it("finds the next interval still open for orders", () => {
    assert.equal(nextOpenInterval(quarterHour, 900), 2);
    assert.equal(nextOpenInterval(quarterHour, 1739), 2);
    // At gate closure itself the gate is shut: the next chance is one interval later.
    assert.equal(nextOpenInterval(quarterHour, 1740), 3);
  });

  it("refuses impossible schedules", () => {
    assert.throws(() => intervalAt({ intervalSeconds: 0, gateClosureSeconds: 0 }, 5), /intervalSeconds/);
    assert.throws(() => intervalAt({ intervalSeconds: 10, gateClosureSeconds: 10 }, 5), /gateClosureSeconds/);
  });
});
