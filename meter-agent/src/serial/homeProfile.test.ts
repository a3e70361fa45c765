import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { homeProfile } from "./homeProfile.js";

const at = (hour: number) => Date.UTC(2025, 5, 21) + hour * 3_600_000;

describe("homeProfile", () => {
  it("produces solar only by day, peaking at noon", () => {
    const profile = homeProfile({ solarPeakW: 5000 });
    assert.equal(profile(at(3)).solarW, 0);
    assert.equal(profile(at(21)).solarW, 0);
    assert.equal(profile(at(12)).solarW, 5000);
    assert.ok(profile(at(9)).solarW > 0 && profile(at(9)).solarW < 5000);
  });

  it("has a base load and morning and evening peaks", () => {
    const profile = homeProfile({ baseLoadW: 250, morningPeakW: 1000, eveningPeakW: 2000 });
    assert.ok(Math.abs(profile(at(3)).loadW - 250) < 1);
    assert.ok(Math.abs(profile(at(7.5)).loadW - 1250) < 1);
    assert.ok(Math.abs(profile(at(19)).loadW - 2250) < 1);
    assert.ok(profile(at(13)).loadW < 400);
  });

  it("shifts the day by the UTC offset", () => {
    const profile = homeProfile({ utcOffsetHours: 10 });
    assert.equal(profile(at(2)).solarW, 4000, "02:00 UTC is local noon at UTC+10");
    assert.equal(profile(at(-12)).solarW, 0, "times before the epoch day wrap too");
  });
});
