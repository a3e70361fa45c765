import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AggregateBattery } from "./aggregateBattery.js";
import type { AggregateReporting } from "./aggregateValues.js";
import type { Battery } from "./battery.js";
import { BatteryRangeError, BatteryUnavailableError, TopologyConfigError } from "./errors.js";
import { simulatedBattery } from "./simulatedBattery.js";

const hour = 3_600_000;
const minute = 60_000;

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

/** Table III.2.1's batteries: A 60 A / 110 Ah, B 40 A / 40 Ah, aggregated into C. */
function tableBatteries(stateOfCharge: { a: number; b: number }, reporting?: AggregateReporting) {
  const time = { now: 0 };
  const clock = () => time.now;
  const A = simulatedBattery(
    "A",
    { capacity: 110, stateOfCharge: stateOfCharge.a, maxChargeCurrent: 60, maxDischargeCurrent: 60 },
    clock,
  ).battery;
  const B = simulatedBattery(
    "B",
    { capacity: 40, stateOfCharge: stateOfCharge.b, maxChargeCurrent: 40, maxDischargeCurrent: 40 },
    clock,
  ).battery;
  const C = new AggregateBattery("C", [A, B], reporting);
  return { time, A, B, C };
}

/** A battery whose reads or commands can be made to fail, as a member that lost its network. */
function flaky(inner: Battery) {
  const state = { offline: false, refuseCommands: false };
  const battery: Battery = {
    name: inner.name,
    getStatus: () => (state.offline ? Promise.reject(new Error("timed out")) : inner.getStatus()),
    setCurrent: (a) => (state.refuseCommands ? Promise.reject(new Error("link down")) : inner.setCurrent(a)),
  };
  return { battery, state };
}

describe("AggregateBattery", () => {
  it("Table III.2.3: capacity is the sum and the maximum current follows the minimum C-rate", async () => {
    const { time, A, B, C } = tableBatteries({ a: 1, b: 1 });
    const [a, b, c] = await Promise.all([A.getStatus(), B.getStatus(), C.getStatus()]);
    // Members: A 60 A, 110 Ah, 100 %, C-rate 0.56; B 40 A, 40 Ah, 100 %, C-rate 1.
    // The table prints A's C-rate 60/110 = 0.545… as 0.56; it is asserted to that precision.
    close(a.maxDischargeCurrent / a.capacity, 0.56, 0.015);
    assert.equal(b.maxDischargeCurrent / b.capacity, 1);
    // C (A+B): 81 A, 150 Ah, 100 %, C-rate 0.56. The exact limit is 6/11 · 150 = 81.8 A.
    assert.equal(c.capacity, 150);
    assert.equal(c.stateOfCharge, 1);
    close(c.maxDischargeCurrent, 900 / 11);
    assert.equal(Math.floor(c.maxDischargeCurrent), 81);
    close(c.maxDischargeCurrent / c.capacity, 6 / 11);
    close(c.maxDischargeCurrent / c.capacity, 0.56, 0.015);
    assert.deepEqual(c.expected, {
      capacity: 150,
      stateOfCharge: 1,
      maxChargeCurrent: c.expected.maxChargeCurrent,
      maxDischargeCurrent: c.maxDischargeCurrent,
    });

    // "Battery C can discharge at 81 A for 110 minutes": A gives 60 A, B is held to 21 A.
    await C.setCurrent(c.maxDischargeCurrent);
    close((await A.getStatus()).current, 60);
    assert.equal(Math.floor((await B.getStatus()).current), 21);
    time.now += 110 * minute - 1;
    assert.ok((await C.getStatus()).stateOfCharge > 0);
    time.now += 1;
    const empty = await C.getStatus();
    close(empty.stateOfCharge, 0);
    close((await A.getStatus()).stateOfCharge, 0);
    close((await B.getStatus()).stateOfCharge, 0);
  });

  it("Table III.2.4: variable current — A at 9 % caps C at 50 A, 33 %, C-rate 1", async () => {
    // The text's "battery A can discharge its 10 Ah": 10 Ah of 110 Ah, printed as 9 %.
    const { time, A, B, C } = tableBatteries({ a: 10 / 110, b: 1 });
    const a = await A.getStatus();
    assert.equal(Math.round(a.stateOfCharge * 100), 9);
    close(a.maxDischargeCurrent / a.capacity, 0.56, 0.015); // A's row keeps its rated C-rate
    const c = await C.getStatus();
    close(c.maxDischargeCurrent, 50);
    assert.equal(c.capacity, 150);
    assert.equal(Math.round(c.stateOfCharge * 100), 33);
    // The table's C-rate 1 for C: 50 A over the 50 Ah it holds.
    close(c.maxDischargeCurrent / (c.stateOfCharge * c.capacity), 1);
    // Expected values still report the balanced battery of Table III.2.3.
    close(c.expected.maxDischargeCurrent, 900 / 11);

    await C.setCurrent(50);
    close((await A.getStatus()).current, 10);
    close((await B.getStatus()).current, 40);
    time.now += hour;
    close((await A.getStatus()).stateOfCharge, 0);
    close((await B.getStatus()).stateOfCharge, 0);
  });

  it("Table III.2.4 at exactly 9 %: the cap rounds to the table's 50 A", async () => {
    const { C } = tableBatteries({ a: 0.09, b: 1 });
    const c = await C.getStatus();
    assert.equal(Math.round(c.maxDischargeCurrent), 50);
    assert.equal(Math.round(c.stateOfCharge * 100), 33);
  });

  it("Table III.2.5: variable charge — C keeps 81 A and reports 13 %", async () => {
    const { time, A, B, C } = tableBatteries({ a: 10 / 110, b: 1 }, "variableCharge");
    const c = await C.getStatus();
    assert.equal(Math.floor(c.maxDischargeCurrent), 81);
    assert.equal(c.capacity, 150);
    assert.equal(Math.round(c.stateOfCharge * 100), 13);
    close(c.maxDischargeCurrent / c.capacity, 0.56, 0.015);

    // "The aggregate battery will last longest with 40 A from battery B and 41 A from battery A",
    // until A's 10 Ah run out "just under 15 minutes" later.
    await C.setCurrent(c.maxDischargeCurrent);
    assert.equal(Math.floor((await A.getStatus()).current), 41);
    close((await B.getStatus()).current, 40);
    const minutes = (10 / (c.maxDischargeCurrent - 40)) * 60;
    assert.ok(minutes > 14 && minutes < 15);
    time.now += minutes * minute;
    close((await A.getStatus()).stateOfCharge, 0, 1e-9);
    // Delivered: what the 13 % promised.
    const delivered = 10 + 40 * (1 - (await B.getStatus()).stateOfCharge);
    close(delivered, c.stateOfCharge * 150, 1e-6);
  });

  it("Table III.2.10: SetDischarge(50) gives A 50·(60/81) and B 50·(21/81)", async () => {
    const { A, B, C } = tableBatteries({ a: 1, b: 1 });
    await C.setCurrent(50);
    const [a, b] = [(await A.getStatus()).current, (await B.getStatus()).current];
    // Exact contributions are 60 A and 21.8 A of 81.8 A; the table's rounded ratios agree to 0.4 A.
    close(a, (50 * 60) / (900 / 11));
    close(b, (50 * (40 * 6)) / 11 / (900 / 11));
    assert.ok(Math.abs(a - (50 * 60) / 81) < 0.4);
    assert.ok(Math.abs(b - (50 * 21) / 81) < 0.4);
    close(a + b, 50);
    close((await C.getStatus()).current, 50);
  });

  it("charges by headroom so that members fill together", async () => {
    const { time, A, B, C } = tableBatteries({ a: 0.5, b: 0.5 });
    const c = await C.getStatus();
    // A accepts 60 A into 55 Ah of room, B 40 A into 20 Ah: A's rate binds, 60/55 · 75 Ah.
    close(c.maxChargeCurrent, (60 / 55) * 75);
    await C.setCurrent(-c.maxChargeCurrent);
    close((await A.getStatus()).current, -60);
    time.now += (55 / 60) * hour;
    close((await A.getStatus()).stateOfCharge, 1);
    close((await B.getStatus()).stateOfCharge, 1);
  });

  it("rejects requests beyond the aggregate's limits and commands no member", async () => {
    const { A, B, C } = tableBatteries({ a: 1, b: 1 });
    await C.setCurrent(10);
    await assert.rejects(C.setCurrent(82), (error: unknown) => {
      assert.ok(error instanceof BatteryRangeError);
      assert.match(error.message, /battery "C": cannot discharge at 82 A, the limit is 81\.8\d* A/);
      return true;
    });
    await assert.rejects(C.setCurrent(-1), /battery "C": cannot charge at 1 A, the limit is 0 A/);
    close((await A.getStatus()).current + (await B.getStatus()).current, 10);
  });

  it("reports lower current values when a member is offline, and keeps its expected values", async () => {
    const { A, B } = tableBatteries({ a: 1, b: 1 });
    const b = flaky(B);
    const C = new AggregateBattery("C", [A, b.battery]);
    await C.getStatus();
    b.state.offline = true;
    const c = await C.getStatus();
    assert.equal(c.capacity, 110);
    close(c.maxDischargeCurrent, 60);
    assert.equal(c.expected.capacity, 150);
    close(c.expected.maxDischargeCurrent, 900 / 11);
    await C.setCurrent(30);
    close((await A.getStatus()).current, 30);
    assert.equal((await B.getStatus()).current, 0);
  });

  it("fails with a retryable error when every member is offline", async () => {
    const { A } = tableBatteries({ a: 1, b: 1 });
    const a = flaky(A);
    a.state.offline = true;
    const C = new AggregateBattery("C", [a.battery]);
    await assert.rejects(C.getStatus(), (error: unknown) => {
      assert.ok(error instanceof BatteryUnavailableError);
      assert.equal(error.retryable, true);
      assert.deepEqual(error.details.failures, { A: "timed out" });
      return true;
    });
  });

  it("puts members back when one refuses a command", async () => {
    const { A, B } = tableBatteries({ a: 1, b: 1 });
    const b = flaky(B);
    const C = new AggregateBattery("C", [A, b.battery]);
    await C.setCurrent(20);
    const before = (await A.getStatus()).current;
    b.state.refuseCommands = true;
    await assert.rejects(C.setCurrent(40), /battery "C": set current 40 A failed: link down/);
    close((await A.getStatus()).current, before);
  });

  it("combines voltage by capacity, sums current, and spans the members' timestamps", async () => {
    const time = { now: 100 };
    const A = simulatedBattery(
      "A",
      { capacity: 30, stateOfCharge: 1, maxChargeCurrent: 1, maxDischargeCurrent: 3, voltage: 48 },
      () => time.now,
    ).battery;
    const late: Battery = {
      name: "L",
      getStatus: async () => ({ ...(await A.getStatus()), voltage: 52, capacity: 10, timestamp: [90, 130] }),
      setCurrent: () => Promise.resolve(),
    };
    const C = new AggregateBattery("C", [A, late]);
    const c = await C.getStatus();
    assert.equal(c.voltage, (48 * 30 + 52 * 10) / 40);
    assert.deepEqual(c.timestamp, [90, 130]);
  });

  it("needs at least one member", () => {
    assert.throws(() => new AggregateBattery("E", []), TopologyConfigError);
  });
});
