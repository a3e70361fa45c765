import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isPeakAt, localMonthAndHour } from "./peakHours.js";

describe("peak hours", () => {
  it("are whole hours [start, end): the end hour itself is off peak", () => {
    const peak = { startHour: 17, endHour: 21, timeZone: "UTC" };
    const at = (time: string) => isPeakAt(Date.parse(`2026-05-04T${time}Z`), peak);
    assert.deepEqual(["16:59:59", "17:00:00", "20:59:59", "21:00:00"].map(at), [false, true, true, false]);
    assert.equal(
      isPeakAt(Date.parse("2026-05-04T23:59:00Z"), { startHour: 0, endHour: 24, timeZone: "UTC" }),
      true,
    );
  });

  it("are peak in the zone's own hours: 17-21 in New York is 21-01 UTC in summer", () => {
    const peak = { startHour: 17, endHour: 21, timeZone: "America/New_York" };
    assert.equal(isPeakAt(Date.parse("2026-07-01T20:59:00Z"), peak), false);
    assert.equal(isPeakAt(Date.parse("2026-07-01T21:00:00Z"), peak), true);
    assert.equal(isPeakAt(Date.parse("2026-07-02T00:59:00Z"), peak), true);
    assert.equal(isPeakAt(Date.parse("2026-07-02T01:00:00Z"), peak), false);
  });

  it("are counted in the billing time zone, daylight saving included", () => {
    // 2026-07-01T21:30Z is 17:30 in New York (EDT, UTC-4); 2026-01-15T21:30Z is 16:30 (EST, UTC-5).
    assert.deepEqual(localMonthAndHour(Date.parse("2026-07-01T21:30:00Z"), "America/New_York"), {
      month: "2026-07",
      hour: 17,
    });
    assert.deepEqual(localMonthAndHour(Date.parse("2026-01-15T21:30:00Z"), "America/New_York"), {
      month: "2026-01",
      hour: 16,
    });
  });

  it("take the month from the zone too: the first hours of a UTC month may still be last month's", () => {
    assert.deepEqual(localMonthAndHour(Date.parse("2026-03-01T02:00:00Z"), "America/New_York"), {
      month: "2026-02",
      hour: 21,
    });
    assert.deepEqual(localMonthAndHour(Date.parse("2026-03-01T00:00:00Z"), "UTC"), {
      month: "2026-03",
      hour: 0,
    });
  });
});
