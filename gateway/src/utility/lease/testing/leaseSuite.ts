import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";

import { createLogger } from "../../../common/logger.js";
import { migrate, type Database, type Queryable } from "../../../store/index.js";
import { UtilityLease, type UtilityLeaseOptions } from "../utilityLease.js";

const logger = createLogger({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lease whose acquisitions and losses are counted. */
function leaseFor(db: Queryable, holder: string, options: Partial<UtilityLeaseOptions> = {}) {
  const events: string[] = [];
  const lease = new UtilityLease({
    db,
    holder,
    leaseMs: 400,
    renewMs: 100,
    logger,
    onAcquired: () => void events.push("acquired"),
    onLost: () => void events.push("lost"),
    ...options,
  });
  return { lease, events };
}

/** The utility lease against a real store: at most one holder, expiry, release, an unreachable database. */
export function defineLeaseSuite(engine: { engine: string; openDatabase(): Promise<Database> }): void {
  void describe(`utility lease on ${engine.engine}`, () => {
    let db: Database;
    beforeEach(async () => {
      db = await engine.openDatabase();
      await migrate(db, { logger });
    });
    afterEach(() => db.close());

    void it("is held by one process at a time; renewing keeps it without starting the work twice", async () => {
      const a = leaseFor(db, "a");
      const b = leaseFor(db, "b");
      await a.lease.renew();
      await b.lease.renew();
      await a.lease.renew();
      await b.lease.renew();
      assert.deepEqual(a.events, ["acquired"]);
      assert.deepEqual(b.events, []);
      assert.equal(a.lease.state.held, true);
      assert.deepEqual([b.lease.state.held, b.lease.state.current?.holder], [false, "a"]);
    });

    void it("passes to another process once the holder lets it expire, and the old holder stops", async () => {
      const a = leaseFor(db, "a");
      const b = leaseFor(db, "b");
      await a.lease.renew();
      await sleep(450);
      await b.lease.renew();
      assert.deepEqual(b.events, ["acquired"]);
      await a.lease.renew();
      assert.deepEqual(a.events, ["acquired", "lost"]);
      assert.equal(a.lease.state.current?.holder, "b");
    });

    void it("is released at stop, after the work stopped, so a standby takes it at once", async () => {
      const a = leaseFor(db, "a");
      const b = leaseFor(db, "b");
      a.lease.start();
      while (!a.lease.state.held) await sleep(5);
      await a.lease.stop();
      assert.deepEqual(a.events, ["acquired", "lost"]);
      await b.lease.renew();
      assert.deepEqual(b.events, ["acquired"]);
    });

    void it("stops the work while the database is unreachable before the lease could run out elsewhere", async () => {
      let reachable = true;
      const flaky: Queryable = {
        query: (sql, params) =>
          reachable ? db.query(sql, params) : Promise.reject(new Error("connection refused")),
        exec: (sql) => db.exec(sql),
      };
      const a = leaseFor(flaky, "a", { leaseMs: 1000, renewMs: 250 });
      await a.lease.renew();
      reachable = false;
      // One failed round with time to spare keeps the work going.
      await a.lease.renew();
      assert.deepEqual(a.events, ["acquired"]);
      // A round that might be the last before expiry stops it (a 1 s lease renewed every 250 ms)...
      await sleep(800);
      await a.lease.renew();
      assert.deepEqual(a.events, ["acquired", "lost"]);
      // ...before its expiry on the database, the moment a standby may take over.
      const { rows } = await db.query<{ running: boolean }>(
        "SELECT expires_at > now() AS running FROM utility_lease WHERE holder = 'a'",
      );
      assert.deepEqual(rows, [{ running: true }]);
    });

    void it("takes the lease from a dead holder at once when the store is embedded (takeOver)", async () => {
      const a = leaseFor(db, "a");
      await a.lease.renew();
      const b = leaseFor(db, "b", { takeOver: true });
      await b.lease.renew();
      assert.deepEqual(b.events, ["acquired"]);
    });

    void it("refuses a renewal period that could let the lease lapse between two rounds", () => {
      assert.throws(() => leaseFor(db, "a", { leaseMs: 1000, renewMs: 600 }), /at most half of leaseMs/);
    });
  });
}
