import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";

import { SchemaMismatchError, StoreError } from "../../common/errors.js";
import { createLogger } from "../../common/logger.js";
import type { Database } from "../database.js";
import { migrate, type Migration } from "../migrate.js";
import { migrations } from "../migrations/index.js";

export interface StoreSuiteEngine {
  engine: Database["engine"];
  /**
   * Makes a new, empty database; each call of the returned `connect` is one more client of it
   * (one more pool, or one more opening of the data directory once the previous one is closed).
   */
  newDatabase(): Promise<{ connect(): Promise<Database> }>;
  /** Whether several clients may be connected at once (not so for an embedded data directory). */
  concurrentClients: boolean;
}

const logger = createLogger({ level: "silent" });
const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;
const meter = `0x${"ab".repeat(20)}`;
const owner = `0x${"cd".repeat(20)}`;
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const signature = `0x${"1f".repeat(65)}`;

/**
 * The store's behaviour, run unchanged against each engine: what holds on embedded PGlite must
 * hold on a PostgreSQL server, since the gateway runs the same statements on both.
 */
export function defineStoreSuite(engine: StoreSuiteEngine): void {
  // node:test's describe/it return promises the runner itself awaits; `void` says so to the linter.
  void describe(`store on ${engine.engine}`, () => {
    const open: Database[] = [];
    const connect = async (database: { connect(): Promise<Database> }) => {
      const db = await database.connect();
      open.push(db);
      return db;
    };
    const closeAll = async () => {
      await Promise.all(open.splice(0).map((db) => db.close()));
    };
    afterEach(closeAll);

    void describe("migrate", () => {
      void it("applies every migration once, and nothing when the gateway restarts", async () => {
        const database = await engine.newDatabase();
        const first = await connect(database);
        assert.equal(first.engine, engine.engine);
        assert.deepEqual(await migrate(first, { logger }), {
          version: migrations.length,
          applied: migrations.map((m) => m.version),
        });
        await closeAll();

        const second = await connect(database);
        assert.deepEqual(await migrate(second, { logger }), { version: migrations.length, applied: [] });
        const { rows } = await second.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        );
        assert.deepEqual(
          rows.map((r) => r.table_name),
          [
            "batch_settlements",
            "battery_reports",
            "bill_lines",
            "billing_rates",
            "billing_runs",
            "billing_settings",
            "bills",
            "chain_checkpoints",
            "chain_clearing_batches",
            "chain_clearings",
            "chain_events",
            "chain_fills",
            "chain_readings",
            "clearing_batches",
            "clearing_fills",
            "clearings",
            "controller_commands",
            "customer_accounts",
            "delivery_obligations",
            "delivery_schedules",
            "devices",
            "fabric_checkpoints",
            "fabric_events",
            "failed_requests",
            "identity_attestations",
            "identity_deposits",
            "identity_verifications",
            "indexed_blocks",
            "meter_records",
            "microgrid_controllers",
            "orders",
            "readings",
            "rejected_records",
            "scheduled_deliveries",
            "schema_migrations",
            "smart_meters",
            "supply_battery",
            "supply_battery_hours",
            "supply_purchases",
            "supply_routing",
            "supply_state",
            "supply_status_history",
            "usage_hours",
            "usage_statistics",
            "utility_lease",
          ],
        );
        const recorded = await second.query("SELECT version, name FROM schema_migrations ORDER BY version");
        assert.deepEqual(
          recorded.rows,
          migrations.map((m) => ({ version: m.version, name: m.name })),
        );
      });

      void it("refuses a database whose schema is newer than the code, changing nothing", async () => {
        const db = await connect(await engine.newDatabase());
        await migrate(db, { logger });
        const future = migrations.length + 1;
        await db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, 'future', 'x')", [
          future,
        ]);
        await assert.rejects(migrate(db, { logger }), (error: unknown) => {
          assert.ok(error instanceof SchemaMismatchError);
          assert.match(
            error.message,
            new RegExp(`version ${future}, newer than this gateway's ${future - 1}`),
          );
          assert.equal(error.retryable, false);
          return true;
        });
        const { rows } = await db.query("SELECT count(*) AS n FROM schema_migrations");
        assert.deepEqual(rows, [{ n: BigInt(future) }]);
      });

      void it("applies new migrations on top and refuses an applied one that was edited since", async () => {
        const db = await connect(await engine.newDatabase());
        const v1: Migration = { version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER)" };
        const v2: Migration = { version: 2, name: "b", sql: "CREATE TABLE b (y INTEGER)" };
        assert.deepEqual(await migrate(db, { logger, migrations: [v1] }), { version: 1, applied: [1] });
        assert.deepEqual(await migrate(db, { logger, migrations: [v1, v2] }), { version: 2, applied: [2] });
        await assert.rejects(
          migrate(db, { logger, migrations: [{ ...v1, sql: "CREATE TABLE a (x BIGINT)" }, v2] }),
          (error: unknown) =>
            error instanceof SchemaMismatchError && /migration 1 \(a\) differs/.test(error.message),
        );
      });

      void it("rolls a failing migration back entirely, keeping the ones before it", async () => {
        const db = await connect(await engine.newDatabase());
        const good: Migration = { version: 1, name: "good", sql: "CREATE TABLE kept (x INTEGER)" };
        const bad: Migration = {
          version: 2,
          name: "bad",
          sql: "CREATE TABLE half (x INTEGER); INSERT INTO half VALUES (1); SELECT no_such_column FROM half;",
        };
        await assert.rejects(migrate(db, { logger, migrations: [good, bad] }), (error: unknown) => {
          assert.ok(error instanceof StoreError);
          assert.equal(error.code, "42703");
          return true;
        });
        const { rows } = await db.query(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        );
        assert.deepEqual(rows, [{ table_name: "kept" }, { table_name: "schema_migrations" }]);
        const versions = await db.query("SELECT version FROM schema_migrations");
        assert.deepEqual(versions.rows, [{ version: 1 }]);
      });

      void it("applies each migration exactly once when several gateways start at once", async () => {
        const database = await engine.newDatabase();
        const clients = 4;
        let dbs: Database[];
        if (engine.concurrentClients) {
          dbs = await Promise.all(Array.from({ length: clients }, () => connect(database)));
        } else {
          // One embedded database per process: its callers are the concurrent runners.
          const only = await connect(database);
          dbs = Array.from({ length: clients }, () => only);
        }
        // Extra steps that take a moment widen the window in which unserialised runners collide.
        const list: Migration[] = [
          ...migrations,
          ...[1, 2, 3].map((i) => ({
            version: migrations.length + i,
            name: `slow ${i}`,
            sql: `SELECT pg_sleep(0.02); CREATE TABLE slow_${i} (x INTEGER);`,
          })),
        ];
        const results = await Promise.all(dbs.map((db) => migrate(db, { logger, migrations: list })));
        for (const result of results) assert.equal(result.version, list.length);
        assert.deepEqual(
          results.flatMap((r) => r.applied).sort((a, b) => a - b),
          list.map((m) => m.version),
        );
        const { rows } = await dbs[0]!.query("SELECT count(*) AS n FROM schema_migrations");
        assert.deepEqual(rows, [{ n: BigInt(list.length) }]);
      });
    });

    void describe("schema", () => {
      let db: Database;
      before(async () => {
        db = await (await engine.newDatabase()).connect();
        await migrate(db, { logger });
      });
      after(() => db.close());

      const insertReading = (values: {
        sequence: bigint;
        interval: bigint;
        register?: bigint;
        meter?: string;
      }) =>
        db.query(
          `INSERT INTO readings (meter, sequence, interval_index, import_start_wh, import_end_wh,
             export_start_wh, export_end_wh, reading_timestamp, signature)
           VALUES ($1, $2, $3, $4, $4, $4, $4, $5, $6)`,
          [
            values.meter ?? meter,
            values.sequence,
            values.interval,
            values.register ?? 0n,
            1_700_000_000n,
            signature,
          ],
        );

      void it("refuses a second reading with the same meter and sequence, or the same interval", async () => {
        await insertReading({ sequence: 1n, interval: 100n });
        await assert.rejects(insertReading({ sequence: 1n, interval: 101n }), (error: unknown) => {
          assert.ok(error instanceof StoreError);
          assert.equal(error.code, "23505");
          assert.equal(error.details.constraint, "readings_pkey");
          assert.equal(error.retryable, false);
          return true;
        });
        await assert.rejects(
          insertReading({ sequence: 2n, interval: 100n }),
          (error: unknown) => error instanceof StoreError && error.code === "23505",
        );
        // Another meter may use the same numbers.
        await insertReading({ sequence: 1n, interval: 100n, meter: owner });
      });

      void it("keeps uint64 values up to 2^64 − 1 exact and refuses 2^64", async () => {
        const reading = { meter: `0x${"ee".repeat(20)}`, sequence: UINT64_MAX, interval: UINT64_MAX };
        await insertReading({ ...reading, register: UINT64_MAX });
        const { rows } = await db.query<{ sequence: string; interval_index: string; import_end_wh: string }>(
          "SELECT sequence, interval_index, import_end_wh FROM readings WHERE meter = $1",
          [reading.meter],
        );
        assert.equal(rows.length, 1);
        assert.equal(BigInt(rows[0]!.sequence), UINT64_MAX);
        assert.equal(BigInt(rows[0]!.interval_index), UINT64_MAX);
        assert.equal(BigInt(rows[0]!.import_end_wh), UINT64_MAX);
        await assert.rejects(
          insertReading({ ...reading, sequence: 1n << 64n, interval: 5n }),
          (error: unknown) => error instanceof StoreError && error.code === "23514",
        );
        await assert.rejects(
          insertReading({ ...reading, sequence: -1n, interval: 6n }),
          (error: unknown) => error instanceof StoreError && error.code === "23514",
        );
      });

      void it("keeps token amounts exact to 2^256 − 1 and sums them exactly", async () => {
        const insertOrder = (id: bigint, deposit: bigint) =>
          db.query(
            `INSERT INTO orders (order_id, interval_index, side, owner, meter, max_wh, limit_price, deposit,
               placed_block, placed_tx)
             VALUES ($1, 7, 'bid', $2, $3, $4, $5, $6, 1, $7)`,
            [id, owner, meter, (1n << 48n) - 1n, (1n << 96n) - 1n, deposit, hash(1)],
          );
        await insertOrder(UINT256_MAX, UINT256_MAX - 1n);
        await insertOrder(1n, 1n);
        const { rows } = await db.query<{
          order_id: string;
          deposit: string;
          limit_price: string;
          max_wh: bigint;
        }>(
          "SELECT order_id, deposit, limit_price, max_wh FROM orders WHERE interval_index = 7 ORDER BY order_id DESC",
        );
        assert.equal(BigInt(rows[0]!.order_id), UINT256_MAX);
        assert.equal(BigInt(rows[0]!.deposit), UINT256_MAX - 1n);
        assert.equal(BigInt(rows[0]!.limit_price), (1n << 96n) - 1n);
        assert.equal(rows[0]!.max_wh, (1n << 48n) - 1n);
        const total = await db.query<{ total: string }>(
          "SELECT sum(deposit) AS total FROM orders WHERE interval_index = 7",
        );
        assert.equal(BigInt(total.rows[0]!.total), UINT256_MAX);
        await assert.rejects(
          insertOrder(2n, 1n << 256n),
          (error: unknown) => error instanceof StoreError && error.code === "23514",
        );
      });

      void it("returns BIGINT columns as exact bigints beyond 2^53", async () => {
        const block = (1n << 53n) + 1n;
        await db.query(
          "INSERT INTO chain_checkpoints (stream, contract, block_number, block_hash) VALUES ('market', $1, $2, $3)",
          [meter, block, hash(2)],
        );
        const { rows } = await db.query("SELECT block_number FROM chain_checkpoints WHERE stream = 'market'");
        assert.deepEqual(rows, [{ block_number: block }]);
      });

      void it("stores decoded event arguments as JSONB and refuses the same log twice", async () => {
        const args = {
          orderId: UINT256_MAX.toString(),
          owner,
          fills: [{ offerId: "1", bidId: "2", wh: "3" }],
        };
        const insertEvent = () =>
          db.query(
            `INSERT INTO chain_events (block_hash, log_index, block_number, tx_hash, contract, event_name, args)
             VALUES ($1, 0, 10, $2, $3, 'BidPlaced', $4)`,
            [hash(10), hash(11), meter, JSON.stringify(args)],
          );
        await insertEvent();
        const { rows } = await db.query("SELECT args FROM chain_events WHERE block_hash = $1", [hash(10)]);
        assert.deepEqual(rows, [{ args }]);
        await assert.rejects(
          insertEvent(),
          (error: unknown) => error instanceof StoreError && error.code === "23505",
        );
      });

      void it("takes hours as whole UTC hours whatever the session's time zone", async () => {
        // Half an hour off UTC: truncating in the session's zone would refuse every whole UTC hour.
        const inKolkata = (sql: string, params: unknown[]) =>
          db.transaction(async (tx) => {
            await tx.query("SET LOCAL TIME ZONE 'Asia/Kolkata'");
            return tx.query(sql, params);
          });
        await db.query(
          "INSERT INTO microgrid_controllers (controller_id, location, url) VALUES ('mg-1', 'residential', 'http://x')",
        );
        const statements = {
          usage_hours: "INSERT INTO usage_hours (controller_id, hour, records) VALUES ('mg-1', $1, 0)",
          failed_requests: `INSERT INTO failed_requests (controller_id, hour, reason, first_failed_at, last_failed_at)
                            VALUES ('mg-1', $1, 'timeout', now(), now())`,
        };
        for (const [table, sql] of Object.entries(statements)) {
          await inKolkata(sql, ["2026-03-10T09:00:00Z"]);
          await assert.rejects(
            inKolkata(sql, ["2026-03-10T09:30:00Z"]),
            (error: unknown) => error instanceof StoreError && error.code === "23514",
            `${table} refuses a half hour`,
          );
        }
      });

      void it("accepts only lower-case hex addresses, so one address has one spelling", async () => {
        await assert.rejects(
          db.query("INSERT INTO devices (meter, owner, device_id, status) VALUES ($1, $2, $3, 'enrolled')", [
            `0x${"AB".repeat(20)}`,
            owner,
            hash(20),
          ]),
          (error: unknown) => error instanceof StoreError && error.code === "23514",
        );
      });

      void describe("transaction", () => {
        const device = (n: number) => [`0x${n.toString(16).padStart(40, "0")}`, owner, hash(n), "enrolled"];
        const insertDevice = "INSERT INTO devices (meter, owner, device_id, status) VALUES ($1, $2, $3, $4)";
        const countDevices = async (n: number) => {
          const { rows } = await db.query("SELECT count(*) AS n FROM devices WHERE device_id = $1", [
            hash(n),
          ]);
          return rows[0]!.n;
        };

        void it("commits when the work resolves and returns its result", async () => {
          const result = await db.transaction(async (tx) => {
            await tx.query(insertDevice, device(101));
            return (await tx.query(insertDevice, device(102))).rowCount;
          });
          assert.equal(result, 1);
          assert.equal(await countDevices(101), 1n);
          assert.equal(await countDevices(102), 1n);
        });

        void it("rolls back when the work throws, and rethrows the same error", async () => {
          const boom = new Error("boom");
          await assert.rejects(
            db.transaction(async (tx) => {
              await tx.query(insertDevice, device(201));
              throw boom;
            }),
            (error: unknown) => error === boom,
          );
          assert.equal(await countDevices(201), 0n);
        });

        void it("rolls back every statement when a later one fails", async () => {
          await assert.rejects(
            db.transaction(async (tx) => {
              await tx.query(insertDevice, device(301));
              await tx.query(insertDevice, device(301));
            }),
            (error: unknown) => error instanceof StoreError && error.code === "23505",
          );
          assert.equal(await countDevices(301), 0n);
          // The database is usable afterwards.
          await db.query(insertDevice, device(302));
          assert.equal(await countDevices(302), 1n);
        });

        void it("reports a rollback when the work swallowed a failed statement and resolved", async () => {
          await assert.rejects(
            db.transaction(async (tx) => {
              await tx.query(insertDevice, device(401));
              await tx.query(insertDevice, device(401)).catch(() => undefined);
            }),
            (error: unknown) => error instanceof StoreError && /rolled back/i.test(error.message),
          );
          assert.equal(await countDevices(401), 0n);
        });
      });
    });
  });
}
