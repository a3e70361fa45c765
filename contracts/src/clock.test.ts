import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { atClockTime, scaledClock, type Clock } from "./clock.js";

describe("atClockTime", () => {
  it("never calls back before the clock reads the time, even when timers fire early by it", async () => {
    // A clock whose timers come back at half the wait it asked for, as an early timer does on a
    // fast clock: the callback must still see the target time.
    const real = scaledClock(Date.now(), 1000);
    const early: Clock = { now: () => real.now(), delayUntil: (at) => real.delayUntil(at) / 2 };
    const target = early.now() + 60_000;
    const seen = await new Promise<number>((resolve) =>
      atClockTime(early, target, () => resolve(early.now())),
    );
    assert.ok(seen >= target, `called at ${seen - target} ms from the target`);
  });

  it("calls back at once for a time already past, and not at all once cancelled", async () => {
    const clock = scaledClock(Date.now(), 1000);
    const past = await new Promise<boolean>((resolve) =>
      atClockTime(clock, clock.now() - 1, () => resolve(true)),
    );
    assert.equal(past, true);
    let called = false;
    const cancel = atClockTime(clock, clock.now() + 20_000, () => (called = true));
    cancel();
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(called, false);
  });
});
