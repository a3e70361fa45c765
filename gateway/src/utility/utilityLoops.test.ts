import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";

import { createLogger } from "../common/logger.js";
import { eventually } from "../common/testing/eventually.js";
import { HOUR_MS, hourName } from "../microgrid/controllerApi.js";
import { createDatabase, migrate, type Database } from "../store/index.js";
import { ClockLoops, every } from "./common/clockLoops.js";
import { INTERVAL_SECONDS, TestMeter } from "./testing/signedReadings.js";
import { TestClock } from "./testing/testClock.js";
import { utilityFixture, type UtilityFixture } from "./testing/utilityFixture.js";

const logger = createLogger({ level: "silent" });
const DAY = Date.parse("2026-03-10T00:00:00Z");
const EPOCH_INTERVAL = DAY / 1000 / INTERVAL_SECONDS;
const hourAt = (h: number) => DAY + h * HOUR_MS;

describe("ClockLoops", () => {
  it("runs each loop when due on the clock, survives failures, and stops promptly", async () => {
    const clock = new TestClock(Date.parse("2026-03-10T09:59:58Z"), 1000); // a simulated second per ms
    const loops = new ClockLoops(clock, logger);
    const seconds: number[] = [];
    let failures = 0;
    loops.add({
      name: "second",
      nextAt: every(1000),
      run: () => {
        seconds.push(clock.now());
        return Promise.resolve();
      },
    });
    loops.add({
      name: "failing",
      nextAt: every(60_000),
      run: () => Promise.reject(new Error(`failure ${++failures}`)),
      runAtStart: true,
    });
    loops.start();
    await eventually("ten ticks", () => Promise.resolve(seconds.length >= 10), 5_000);
    await loops.stop();
    const slots = seconds.map((s) => Math.floor(s / 1000));
    assert.equal(new Set(slots).size, slots.length, "never twice in one second");
    const failing = loops.status().find((s) => s.name === "failing")!;
    assert.ok(failing.runs >= 1 && failing.lastError?.startsWith("failure"), JSON.stringify(failing));
    const after = seconds.length;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seconds.length, after, "nothing runs after stop");
  });
});

describe("ClockLoops on a fast clock", () => {
  it("runs a loop at most once per minimum wall-clock gap, however many clock periods pass", async () => {
    // A simulated second every wall millisecond: unbounded, the loop would run ~300 times.
    const clock = new TestClock(Date.parse("2026-03-10T09:00:00Z"), 1000);
    const loops = new ClockLoops(clock, logger, { minWallGapMs: 50 });
    const runs: number[] = [];
    loops.add({
      name: "second",
      nextAt: every(1000),
      run: () => {
        runs.push(performance.now());
        return Promise.resolve();
      },
    });
    loops.start();
    await new Promise((r) => setTimeout(r, 300));
    await loops.stop();
    assert.ok(runs.length >= 2 && runs.length <= 7, `${runs.length} runs in 300 ms`);
    for (let i = 1; i < runs.length; i++) {
      assert.ok(runs[i]! - runs[i - 1]! >= 49, `runs ${i - 1} and ${i} ${runs[i]! - runs[i - 1]!} ms apart`);
    }
  });
});

describe("UtilityService loops", () => {
  let db: Database;
  let fx: UtilityFixture;
  const m1 = new TestMeter(1);
  const m3 = new TestMeter(3);

  beforeEach(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
    fx = await utilityFixture({
      db,
      startMs: Date.parse("2026-03-10T09:00:00Z"),
      controllers: [
        { id: "res-1", meters: [m1] },
        { id: "apt-1", location: "apartment", meters: [m3] },
      ],
      // Signatures recovered on a worker thread, as in production.
      config: { signatureWorkers: 1 },
    });
  });
  afterEach(async () => {
    await fx.close();
    await db.close();
  });

  it("remakes the FRQ one request per second of the utility's clock until nothing is missing or doubled", async () => {
    const apt = fx.controller("apt-1");
    await apt.down();
    const hours = [9, 10, 11, 12, 13, 14];
    for (const h of hours) {
      fx.controller("res-1").hours.set(hourName(hourAt(h)), {
        readings: await m1.readingsReceivedIn(hourAt(h), EPOCH_INTERVAL),
        backup: false,
      });
      apt.hours.set(hourName(hourAt(h)), {
        readings: await m3.readingsReceivedIn(hourAt(h), EPOCH_INTERVAL),
        backup: false,
      });
      fx.clock.set(hourAt(h + 1) + 10_000);
      await fx.service.queryData();
    }
    const frq = async () => (await db.query("SELECT 1 FROM failed_requests")).rows.length;
    assert.equal(await frq(), hours.length);

    // Back up at 15:00:30; the utility's loops run a simulated second every 20 ms.
    await apt.resume();
    fx.clock.set(hourAt(15) + 30_000);
    fx.clock.run(50);
    fx.service.start();
    await eventually("the FRQ to drain", async () => (await frq()) === 0, 20_000, 20);
    await fx.service.stop();

    const remakes = apt.gets();
    assert.deepEqual(
      remakes.map((r) => decodeURIComponent(r.path.slice(10))).sort(),
      hours.map((h) => hourName(hourAt(h))),
    );
    const slots = remakes.map((r) => Math.floor(r.atMs / 1000));
    assert.equal(new Set(slots).size, slots.length, `one request per second: ${slots.join(", ")}`);
    const { rows } = await db.query<{ n: string; distinct_intervals: string }>(
      "SELECT count(*)::text AS n, count(DISTINCT interval_index)::text AS distinct_intervals FROM meter_records WHERE meter = $1",
      [m3.address],
    );
    assert.deepEqual(rows[0], { n: "24", distinct_intervals: "24" });
    const unacknowledged = await db.query("SELECT 1 FROM usage_hours WHERE NOT acknowledged");
    assert.equal(unacknowledged.rows.length, 0);
  });
});
