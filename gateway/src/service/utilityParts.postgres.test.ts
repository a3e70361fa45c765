import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { createLogger } from "../common/logger.js";
import { eventually } from "../common/testing/eventually.js";
import { migrate, type Database } from "../store/index.js";
import { privatePostgresDatabases } from "../store/testing/postgresServer.js";
import { CHAIN_ID, INTERVAL_SECONDS, LEDGER, TestMeter } from "../utility/testing/signedReadings.js";
import { utilityFixture, type UtilityFixture } from "../utility/testing/utilityFixture.js";
import { parseUtilityConfig } from "../utility/utilityConfig.js";
import { UtilityParts } from "./utilityParts.js";

const logger = createLogger({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const runs = async (parts: UtilityParts) =>
  (await parts.status()).data.loops.reduce((n, loop) => n + loop.runs, 0);

describe("two utility processes on one PostgreSQL database", () => {
  const engine = privatePostgresDatabases("utility_parts");
  let db: Database;
  let fx: UtilityFixture;
  let parts: UtilityParts[];
  /** What is up so far, closed in reverse even when the set-up fails half-way. */
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    db = await engine.openDatabase();
    cleanups.push(() => db.close());
    await migrate(db, { logger });
    fx = await utilityFixture({
      db,
      startMs: Date.parse("2026-03-10T09:30:00Z"),
      controllers: [{ id: "res-1", meters: [new TestMeter(1)] }],
    });
    cleanups.push(() => fx.close());
    const config = {
      utility: parseUtilityConfig({
        fleetFile: fx.fleetFile,
        readings: { chainId: CHAIN_ID, deliveryLedger: LEDGER, intervalSeconds: INTERVAL_SECONDS },
        signatureWorkers: 0,
        lease: { leaseMs: 2_000, renewMs: 500 },
      }),
      billingTimeZone: "UTC",
      marketIntervalSeconds: INTERVAL_SECONDS,
    };
    parts = await Promise.all([0, 1].map(() => UtilityParts.create({ db, config, clock: fx.clock, logger })));
    cleanups.push(() => Promise.allSettled(parts.map((p) => p.stop())));
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("lets one work while the other stands by, and hands over when the worker stops", async () => {
    for (const p of parts) p.start();
    await eventually("one of them to hold the lease", () => parts.some((p) => p.lease.state.held));
    // Several rounds later still exactly one holds it, and only its loops have run.
    await sleep(600);
    const [active, standby] = parts[0]!.lease.state.held ? [parts[0]!, parts[1]!] : [parts[1]!, parts[0]!];
    assert.deepEqual([active.lease.state.held, standby.lease.state.held], [true, false]);
    assert.equal(standby.lease.state.current?.holder, active.lease.state.holder);
    assert.ok((await runs(active)) > 0, "the holder polls");
    assert.equal(await runs(standby), 0, "the standby does nothing");

    await active.stop();
    await eventually("the standby to take over", () => standby.lease.state.held, 2_000);
    await eventually("the new holder's loops to run", async () => (await runs(standby)) > 0);
  });
});
