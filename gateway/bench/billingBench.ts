/**
 * Monthly billing (seed 000 Create_bills) of a month of 5-minute meter records: by default 1,000
 * meters × 30 days = 8.64 million meter_records rows, with P2P fills for a tenth of the meters, on
 * embedded PGlite (in a data directory) and on a PostgreSQL server started for the run (skipped with
 * a message when none can start). Loading is timed apart from billing.
 *
 *   node --import tsx gateway/bench/billingBench.ts [--meters 1000] [--days 30] [--engine pglite|postgres|both]
 *
 * Records are generated in the database (INSERT ... SELECT generate_series), a chunk of meters per
 * statement, with the table's foreign-key triggers off and its indexes dropped, then rebuilt, so
 * that billing runs on the schema as migrated. Registers are synthetic: billing reads only each
 * record's import and export.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { createLogger } from "../src/common/logger.js";
import { createDatabase, migrate, type Database, type DatabaseTarget } from "../src/store/index.js";
import { startPostgresServer } from "../src/store/testing/postgresServer.js";
import { configureBilling, createBills, setBillingRates } from "../src/utility/billing/index.js";

const { values } = parseArgs({
  options: {
    meters: { type: "string", default: "1000" },
    days: { type: "string", default: "30" },
    engine: { type: "string", default: "both" },
  },
});
const METERS = Number(values.meters);
const DAYS = Number(values.days);
if (!Number.isInteger(METERS) || METERS < 10 || !Number.isInteger(DAYS) || DAYS < 1 || DAYS > 30) {
  throw new Error("--meters must be a whole number ≥ 10 and --days a whole number from 1 to 30");
}
const ENGINES = values.engine === "both" ? ["pglite", "postgres"] : [values.engine];

const MONTH = "2026-04";
const MONTH_START = Date.UTC(2026, 3, 1) / 1000;
const INTERVAL = 300;
const FIRST_INTERVAL = MONTH_START / INTERVAL;
const PER_METER = (DAYS * 86_400) / INTERVAL;
const CONTROLLERS = 10;
/** Meters 0..P-1 sell to meters P..2P-1, one fill per pair in each hour's first interval. */
const PAIRS = Math.floor(METERS / 10);
const CHUNK_METERS = 50;
const logger = createLogger({ level: "silent" });
const meter = (m: string) => `'0x' || lpad(to_hex(${m} + 1), 40, '0')`;
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

async function load(db: Database): Promise<{ records: string; indexes: string; total: string }> {
  const started = performance.now();
  await db.exec(`
    INSERT INTO microgrid_controllers (controller_id, location, url, created_at)
      SELECT 'mg-' || c, 'residential', 'http://127.0.0.1:1', '2026-01-01T00:00:00Z'
      FROM generate_series(0, ${CONTROLLERS - 1}) c;
    INSERT INTO customer_accounts (account_number, controller_id, initial_base_bill, base_bill)
      SELECT 'acct-' || m, 'mg-' || (m % ${CONTROLLERS}), 20000000, 20000000 FROM generate_series(0, ${METERS - 1}) m;
    INSERT INTO smart_meters (meter, account_number, controller_id, function, direction)
      SELECT ${meter("m")}, 'acct-' || m, 'mg-' || (m % ${CONTROLLERS}), 'meter', 'bidirectional'
      FROM generate_series(0, ${METERS - 1}) m;
    INSERT INTO usage_hours (controller_id, hour, records, acknowledged)
      SELECT 'mg-' || c, h, 0, true FROM generate_series(0, ${CONTROLLERS - 1}) c
      CROSS JOIN generate_series('2026-04-01T00:00:00Z'::timestamptz, '2026-04-30T23:00:00Z', interval '1 hour') h;
  `);
  await loadP2p(db);

  const recordsStarted = performance.now();
  await db.exec(`
    ALTER TABLE meter_records DROP CONSTRAINT meter_records_pkey;
    ALTER TABLE meter_records DROP CONSTRAINT meter_records_meter_interval_index_key;
    DROP INDEX meter_records_by_time;
  `);
  for (let first = 0; first < METERS; first += CHUNK_METERS) {
    const last = Math.min(METERS, first + CHUNK_METERS) - 1;
    await db.transaction(async (tx) => {
      // Foreign-key checks are triggers; the meters were inserted just above.
      await tx.exec("SET LOCAL session_replication_role = replica");
      await tx.query(
        `INSERT INTO meter_records (meter, sequence, interval_index, start_time, end_time, import_start_wh,
           import_end_wh, export_start_wh, export_end_wh, reading_timestamp, signature, controller_id)
         SELECT ${meter("m")}, k + 1, $1 + k, to_timestamp(($1 + k) * ${INTERVAL}),
                to_timestamp(($1 + k + 1) * ${INTERVAL}), k * 100, k * 100 + (m * 7 + k * 13) % 60,
                k * 40, k * 40 + (m * 11 + k * 3) % 25, ($1 + k + 1) * ${INTERVAL}, $4::bytea, 'mg-' || (m % ${CONTROLLERS})
         FROM generate_series($2::integer, $3::integer) m CROSS JOIN generate_series(0, ${PER_METER - 1}) k`,
        [FIRST_INTERVAL, first, last, Buffer.alloc(65, 0x1f)],
      );
    });
  }
  const indexesStarted = performance.now();
  await db.exec(`
    ALTER TABLE meter_records ADD CONSTRAINT meter_records_pkey PRIMARY KEY (meter, sequence);
    ALTER TABLE meter_records ADD CONSTRAINT meter_records_meter_interval_index_key UNIQUE (meter, interval_index);
    CREATE INDEX meter_records_by_time ON meter_records (start_time);
  `);
  return {
    records: ((indexesStarted - recordsStarted) / 1000).toFixed(1),
    indexes: seconds(indexesStarted),
    total: seconds(started),
  };
}

/** Settled fills as the chain indexer stores them: both orders, the clearing and its batch. */
async function loadP2p(db: Database): Promise<void> {
  const hours = DAYS * 24;
  const perHour = 3600 / INTERVAL;
  await db.exec(`
    INSERT INTO chain_clearings (interval_index, price, batch_count)
      SELECT ${FIRST_INTERVAL} + h * ${perHour}, 120000, 1 FROM generate_series(0, ${hours - 1}) h;
    INSERT INTO chain_clearing_batches (interval_index, batch, fills_hash, fill_count, submit_block, submit_tx)
      SELECT ${FIRST_INTERVAL} + h * ${perHour}, 0, '0x' || lpad(to_hex(h + 1), 64, '0'), ${PAIRS}, 1,
             '0x' || lpad(to_hex(h + 1), 64, '0')
      FROM generate_series(0, ${hours - 1}) h;
    INSERT INTO orders (order_id, interval_index, side, owner, meter, max_wh, filled_wh, limit_price, penalty_per_kwh,
                        deposit, status, placed_block, placed_tx)
      SELECT 2 * (h * ${PAIRS} + s) + side, ${FIRST_INTERVAL} + h * ${perHour},
             CASE side WHEN 1 THEN 'offer' ELSE 'bid' END, ${meter(`s + (side - 1) * ${PAIRS}`)},
             ${meter(`s + (side - 1) * ${PAIRS}`)}, 200, 200, 120000, CASE side WHEN 1 THEN 10 END, 0, 'settled', 1,
             '0x' || lpad(to_hex(2 * (h * ${PAIRS} + s) + side), 64, '0')
      FROM generate_series(0, ${hours - 1}) h CROSS JOIN generate_series(0, ${PAIRS - 1}) s
      CROSS JOIN (VALUES (1), (2)) sides(side);
    INSERT INTO chain_fills (interval_index, batch, position, offer_id, bid_id, wh, delivered_wh, paid, penalty)
      SELECT ${FIRST_INTERVAL} + h * ${perHour}, 0, s, 2 * (h * ${PAIRS} + s) + 1, 2 * (h * ${PAIRS} + s) + 2, 200,
             150 + h % 50, (150 + h % 50) * 120, 0
      FROM generate_series(0, ${hours - 1}) h CROSS JOIN generate_series(0, ${PAIRS - 1}) s;
  `);
}

async function measure(engine: string, target: DatabaseTarget): Promise<void> {
  const db = await createDatabase({ database: target, logger });
  try {
    await migrate(db, { logger });
    await configureBilling(db, { timeZone: "UTC", intervalSeconds: INTERVAL });
    const clock = { now: () => Date.UTC(2026, 4, 2), delayUntil: () => 0 };
    await setBillingRates({
      db,
      clock,
      rates: { month: MONTH, peakRate: "400000", offPeakRate: "100000", peakStartHour: 17, peakEndHour: 21 },
    });
    const loaded = await load(db);
    const { rows } = await db.query<{ n: bigint }>("SELECT count(*) AS n FROM meter_records");
    console.log(
      `${engine}: loaded ${rows[0]!.n} meter records and ${DAYS * 24 * PAIRS} P2P fills in ${loaded.total} s ` +
        `(records ${loaded.records} s, indexes ${loaded.indexes} s)`,
    );

    const started = performance.now();
    const result = await createBills({ db, clock, logger, month: MONTH });
    const took = seconds(started);
    if (result.status !== "created") throw new Error(`billing did not run: ${JSON.stringify(result)}`);
    // Every recorded watt-hour is on a bill (the records all lie inside the month), and every
    // delivered P2P watt-hour on both its buyer's and its seller's.
    const check = await db.query<{
      recorded: string;
      billed: string;
      delivered: string;
      bought: string;
      sold: string;
    }>(
      `SELECT (SELECT sum(import_wh) FROM meter_records)::text AS recorded,
              (SELECT sum(import_wh) FROM bills WHERE month = $1)::text AS billed,
              (SELECT sum(delivered_wh) FROM chain_fills)::text AS delivered,
              (SELECT sum(p2p_bought_wh) FROM bills WHERE month = $1)::text AS bought,
              (SELECT sum(p2p_sold_wh) FROM bills WHERE month = $1)::text AS sold`,
      [MONTH],
    );
    const c = check.rows[0]!;
    if (c.recorded !== c.billed || c.bought !== c.delivered || c.sold !== c.delivered) {
      throw new Error(`bills do not add up to the records and fills: ${JSON.stringify(c)}`);
    }
    console.log(
      `${engine}: Create_bills ${took} s for ${result.run.accounts} accounts ` +
        `(total due ${result.run.totalDue} base units)`,
    );
  } finally {
    await db.close();
  }
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`);
console.log(
  `billing ${MONTH}: ${METERS} meters × ${DAYS} days of ${INTERVAL / 60}-minute records ` +
    `(${METERS * PER_METER} rows), ${PAIRS} P2P pairs trading hourly`,
);
if (ENGINES.includes("pglite")) {
  const dir = await mkdtemp(join(tmpdir(), "gridmesh-bench-billing-"));
  try {
    await measure("PGlite (embedded, data directory)", { kind: "embedded", dataDir: join(dir, "pglite") });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
if (ENGINES.includes("postgres")) {
  let server: Awaited<ReturnType<typeof startPostgresServer>> | undefined;
  try {
    server = await startPostgresServer();
  } catch (error) {
    console.log(`PostgreSQL: skipped, no server could start (${(error as Error).message.split("\n")[0]})`);
  }
  if (server !== undefined) {
    try {
      await measure("PostgreSQL server (loopback, fsync off)", {
        kind: "postgres",
        url: await server.createDatabase("bench_billing"),
      });
    } finally {
      await server.stop();
    }
  }
}
