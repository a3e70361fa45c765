/**
 * What the chain indexer's tests share: stores on both engines (embedded PGlite in a data directory,
 * a private PostgreSQL server), a provider over Hardhat's in-process chain, a logger whose records
 * can be read back, and snapshots of everything the indexer writes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

import { BrowserProvider } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { createLogger, type Logger } from "../../gateway/src/common/logger.js";
import { ChainIndexer, type ChainIndexerParameters } from "../../gateway/src/indexer/index.js";
import { type PostgresServer, startPostgresServer } from "../../gateway/src/store/testing/postgresServer.js";
import {
  createDatabase,
  type Database,
  type DatabaseTarget,
  migrate,
  type Queryable,
} from "../../gateway/src/store/index.js";
import { deployGridMesh, usd } from "../helpers/gridmesh.js";

export const engines = ["pglite", "postgres"] as const;
export type Engine = (typeof engines)[number];

const silent = createLogger({ level: "silent" });

/**
 * Databases of one engine for a test file. PostgreSQL gets a new database per `fresh()`; the
 * embedded engine reuses one data directory, emptied, since starting PGlite takes seconds.
 */
export class TestStores {
  readonly engine: Engine;
  #server: PostgresServer | undefined;
  #dir: string | undefined;
  #count = 0;
  /** Where each open database lives, to reopen it. */
  readonly #targets = new Map<Database, DatabaseTarget>();
  #embedded: Database | undefined;
  #started: Promise<void> | undefined;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** Starts the engine once, however many suites ask. */
  setUp(): Promise<void> {
    return (this.#started ??= (async () => {
      if (this.engine === "postgres") this.#server = await startPostgresServer();
      else this.#dir = await mkdtemp(join(tmpdir(), "gridmesh-indexer-"));
    })());
  }

  /** An empty, migrated database. */
  async fresh(): Promise<Database> {
    if (this.#server !== undefined) {
      return this.#open({
        kind: "postgres",
        url: await this.#server.createDatabase(`indexer_${++this.#count}`),
      });
    }
    this.#embedded ??= await this.#open({ kind: "embedded", dataDir: join(this.#dir!, "gateway-db") });
    await emptyTables(this.#embedded);
    return this.#embedded;
  }

  /** Closes `db` and opens its database again: a gateway restart. */
  async reopen(db: Database): Promise<Database> {
    const target = this.#targets.get(db)!;
    this.#targets.delete(db);
    await db.close();
    const again = await this.#open(target);
    if (this.#embedded === db) this.#embedded = again;
    return again;
  }

  async tearDown(): Promise<void> {
    await Promise.all([...this.#targets.keys()].map((db) => db.close()));
    this.#targets.clear();
    await this.#server?.stop();
    if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
  }

  async #open(target: DatabaseTarget): Promise<Database> {
    const db = await createDatabase({ database: target, logger: silent });
    this.#targets.set(db, target);
    await migrate(db, { logger: silent });
    return db;
  }
}

const shared = new Map<Engine, TestStores>();

/**
 * The stores of `engine` shared by every indexer test file of the run (starting PostgreSQL and
 * PGlite takes seconds), stopped when the run ends.
 */
export function storesFor(engine: Engine): TestStores {
  let stores = shared.get(engine);
  if (stores === undefined) {
    stores = new TestStores(engine);
    shared.set(engine, stores);
  }
  return stores;
}

// A root-level hook: runs once, after every test file.
after(() => Promise.all([...shared.values()].map((stores) => stores.tearDown())));

/** Deletes every row but the schema's version: the database as a first start leaves it. */
export async function emptyTables(db: Database): Promise<void> {
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
  );
  if (rows.length > 0) await db.exec(`TRUNCATE ${rows.map((r) => r.table_name).join(", ")}`);
}

/**
 * An ethers provider over the in-process chain, configured as the gateway's is: no request cache,
 * since after evm_revert the same block number names another block.
 */
export function chainProvider(connection: NetworkConnection): BrowserProvider {
  return new BrowserProvider(connection.provider, undefined, { cacheTimeout: -1 });
}

/** The deployed contracts of a GridMesh set. */
type GridMesh = Pick<
  Awaited<ReturnType<typeof deployGridMesh>>,
  "market" | "registry" | "ledger" | "forwards" | "options"
>;
export type Market = Awaited<ReturnType<typeof deployMarket>>;

/** A fresh contract set with four active, funded meter owners; `startBlock` is its first block. */
export async function deployMarket(ethers: NetworkConnection["ethers"]) {
  const startBlock = BigInt(await ethers.provider.getBlockNumber()) + 1n;
  const g = await deployGridMesh(ethers);
  const owners = [g.alice, g.bob, g.carol, g.dave] as const;
  const meterWallets = await Promise.all(owners.map((o) => g.activeMeter(o)));
  for (const owner of owners) await g.fund(owner, usd(1_000n));
  const party = (i: number) => ({ owner: owners[i]!, meter: meterWallets[i]!.address });
  return { ...g, startBlock, meterWallets, alice: party(0), bob: party(1), carol: party(2), dave: party(3) };
}

/** The open orders of interval `t` as the contract holds them: the book the index must reproduce. */
export async function bookOnChain(g: GridMesh, t: bigint) {
  const offers = [];
  const bids = [];
  const next = await g.market.nextOrderId();
  for (let id = 1n; id < next; id++) {
    const o = await g.market.getOrder(id);
    if (o.interval !== t || o.closed) continue;
    const owner = o.owner.toLowerCase();
    if (o.side === 0n) offers.push({ id, owner, minPricePerKwh: o.limitPrice, wh: o.maxWh });
    else bids.push({ id, owner, maxPricePerKwh: o.limitPrice, wh: o.maxWh });
  }
  return { offers, bids };
}

export async function contractsOf(g: GridMesh): Promise<ChainIndexerParameters["contracts"]> {
  return {
    energyMarket: await g.market.getAddress(),
    meterRegistry: await g.registry.getAddress(),
    deliveryLedger: await g.ledger.getAddress(),
    forwardMarket: await g.forwards.getAddress(),
    optionMarket: await g.options.getAddress(),
  };
}

export async function indexerFor(
  db: Database,
  connection: NetworkConnection,
  g: GridMesh,
  options: Partial<ChainIndexerParameters> = {},
): Promise<ChainIndexer> {
  return new ChainIndexer({
    db,
    provider: chainProvider(connection),
    contracts: await contractsOf(g),
    logger: silent,
    ...options,
  });
}

/** A logger whose records the test reads back. */
export function capturingLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() !== "") records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), records };
}

/** Every projection table with the columns that order its rows. */
const projectionTables: Record<string, string> = {
  orders: "order_id",
  devices: "meter",
  chain_clearings: "interval_index",
  chain_clearing_batches: "interval_index, batch",
  chain_fills: "interval_index, batch, position",
  chain_readings: "meter, interval_index",
  delivery_obligations: "meter, interval_index, market",
  delivery_schedules: "contract, schedule_id",
  scheduled_deliveries: "contract, schedule_id, interval_index",
};

/** The projections' rows, without the write times that differ between two builds of the same rows. */
export async function projectionRows(db: Queryable): Promise<Record<string, Record<string, unknown>[]>> {
  const snapshot: Record<string, Record<string, unknown>[]> = {};
  for (const [table, order] of Object.entries(projectionTables)) {
    const { rows } = await db.query(`SELECT * FROM ${table} ORDER BY ${order}`);
    snapshot[table] = rows.map(({ updated_at: _, ...row }) => row);
  }
  const readings = await db.query(
    "SELECT meter, sequence, recorded_tx FROM readings ORDER BY meter, sequence",
  );
  snapshot.readings = readings.rows;
  return snapshot;
}

/** Everything the indexer stores: events, projections and where it stands. */
export async function indexRows(db: Queryable) {
  const events = await db.query(
    "SELECT block_number, block_hash, log_index, tx_hash, contract, event_name, args FROM chain_events ORDER BY 1, 3",
  );
  const checkpoints = await db.query(
    "SELECT stream, contract, block_number, block_hash FROM chain_checkpoints ORDER BY stream",
  );
  return { events: events.rows, checkpoints: checkpoints.rows, ...(await projectionRows(db)) };
}

/**
 * A database whose `failAt`-th statement inside a transaction (counted over its whole life) fails,
 * as a crash or a lost connection would cut it: what that transaction did so far must vanish.
 */
export function failingAt(db: Database, failAt: number): Database & { readonly failed: boolean } {
  let statements = 0;
  const count = () => {
    if (++statements === failAt) throw new Error(`injected failure at statement ${failAt}`);
  };
  return {
    engine: db.engine,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    get failed() {
      return statements >= failAt;
    },
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async (sql, params) => (count(), tx.query(sql, params)),
          exec: async (sql) => (count(), tx.exec(sql)),
        }),
      ),
  };
}
