import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";

import { simulatedBattery } from "../bal/simulatedBattery.js";
import { scaledClock, type AgentClock } from "../readings/clock.js";
import type { BatteryPolicyState } from "./batteryPolicy.js";
import { BatteryPolicyLoop } from "./batteryPolicyLoop.js";

const spec = {
  capacity: 100,
  stateOfCharge: 0.8,
  maxChargeCurrent: 30,
  maxDischargeCurrent: 40,
  voltage: 50,
};
const off: BatteryPolicyState = {
  isOn: true,
  sharingPower: false,
  reducingPowerDemand: false,
  batteryThreshold: null,
  dataIntervalSeconds: 300,
};

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe("BatteryPolicyLoop", () => {
  it("sets the policy's current on a simulated battery, step by step", async () => {
    let now = 1_700_000_000_000;
    const clock: AgentClock = { now: () => now, delayUntil: (at) => Math.max(0, at - now) };
    const { battery } = simulatedBattery("home", spec, () => now);
    let state: BatteryPolicyState = { ...off, sharingPower: true, batteryThreshold: 0.5 };
    let netPowerW = 0;
    const loop = new BatteryPolicyLoop({
      battery,
      state: () => state,
      netPowerW: () => Promise.resolve(netPowerW),
      clock,
    });

    assert.deepEqual(await loop.step(), { current: 40, reason: "share" });
    assert.equal((await battery.getStatus()).current, 40);

    // 300 s at 40 A takes 3.333… Ah out of 80.
    now += 300_000;
    const { stateOfCharge } = await battery.getStatus();
    assert.ok(Math.abs(stateOfCharge - (80 - 40 / 12) / 100) < 1e-9, `state of charge ${stateOfCharge}`);

    // The meter sees 1500 W exported while the battery gives 2000 W: the home itself needs 500 W.
    state = { ...off, reducingPowerDemand: true };
    netPowerW = -1500;
    assert.deepEqual(await loop.step(), { current: 10, reason: "reduce-demand" });
    assert.equal((await battery.getStatus()).current, 10);

    state = off;
    netPowerW = 0;
    assert.deepEqual(await loop.step(), { current: 0, reason: "idle" });
    assert.equal((await battery.getStatus()).current, 0);
  });

  it("runs every data interval, acts at once on notify, survives failures and rests the battery on stop", async (t) => {
    // 1000× time: a 10 s data interval passes in 10 ms.
    const clock = scaledClock(Date.now(), 1000);
    const { battery } = simulatedBattery("home", spec, () => clock.now());
    let state: BatteryPolicyState = { ...off, dataIntervalSeconds: 10 };
    let meterDown = true;
    let longIntervalReadAtTick: number | undefined;
    const loop = new BatteryPolicyLoop({
      battery,
      state: () => {
        if (state.dataIntervalSeconds === 86_400) longIntervalReadAtTick ??= loop.stats.ticks;
        return state;
      },
      netPowerW: () => (meterDown ? Promise.reject(new Error("meter unreachable")) : Promise.resolve(0)),
      clock,
    });
    t.after(() => loop.stop());

    loop.start();
    await until(() => loop.stats.failures >= 1, "a failed step");
    meterDown = false;
    await until(() => loop.lastDecision?.reason === "idle", "the first good step");

    // A long interval: only notify() can make the change show up within the test.
    state = { ...off, dataIntervalSeconds: 86_400 };
    await until(
      () => longIntervalReadAtTick !== undefined && loop.stats.ticks > longIntervalReadAtTick,
      "a step with the long interval",
    );
    state = { ...state, sharingPower: true, batteryThreshold: 0.5 };
    loop.notify();
    await until(() => loop.lastDecision?.reason === "share", "sharing after notify", 1000);
    // 0.3 × 100 Ah spread over the day-long interval: 1.25 A, so it cannot pass the threshold unseen.
    assert.equal((await battery.getStatus()).current, 1.25);

    await loop.stop();
    assert.equal((await battery.getStatus()).current, 0);
  });
});
