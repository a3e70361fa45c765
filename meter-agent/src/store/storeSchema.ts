import type { DatabaseSync } from "node:sqlite";

/**
 * The reading store's versioned schema: each step runs once, in order, in its own transaction,
 * recorded in `user_version`. Steps are never edited once released; a change is a new step.
 */
const MIGRATIONS: readonly string[] = [
  // 1: readings with one delivery state each (one uplink per agent).
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE readings (
     sequence INTEGER PRIMARY KEY,
     interval INTEGER NOT NULL UNIQUE,
     import_start_wh INTEGER NOT NULL, import_end_wh INTEGER NOT NULL,
     export_start_wh INTEGER NOT NULL, export_end_wh INTEGER NOT NULL,
     timestamp INTEGER NOT NULL,
     signature TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     delivered_ms INTEGER, delivered_via TEXT,
     expired_ms INTEGER, expired_reason TEXT,
     CHECK (import_end_wh >= import_start_wh AND export_end_wh >= export_start_wh)
   );
   CREATE INDEX readings_pending ON readings (sequence) WHERE delivered_ms IS NULL AND expired_ms IS NULL;
   CREATE TABLE anchor (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     interval INTEGER NOT NULL, import_wh INTEGER NOT NULL, export_wh INTEGER NOT NULL, at_ms INTEGER NOT NULL
   );
   CREATE TABLE meter_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,

  // 2: a delivery state per uplink, so that several uplinks each get every reading and one's
  // outage never holds back another. A reading waits for an uplink while its row has neither
  // delivered_ms nor expired_ms; `uplinks` lists the uplinks readings are owed to.
  //
  // Version 1's state moves over as it was: a reading delivered once was done, so it is done for
  // every uplink that delivered any (delivered_via names them); a pending one waits for each of
  // them. Version 1 did not record which uplink gave up on an expired reading, so that expiry is
  // kept under the name "v1", which is never an uplink: the reading stays given up on.
  `CREATE TABLE uplinks (name TEXT PRIMARY KEY, added_ms INTEGER NOT NULL);
   CREATE TABLE deliveries (
     uplink TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     delivered_ms INTEGER, expired_ms INTEGER, expired_reason TEXT,
     PRIMARY KEY (uplink, sequence)
   ) WITHOUT ROWID;
   CREATE INDEX deliveries_waiting ON deliveries (uplink, sequence)
     WHERE delivered_ms IS NULL AND expired_ms IS NULL;
   CREATE INDEX deliveries_of_reading ON deliveries (sequence);
   INSERT INTO uplinks (name, added_ms)
     SELECT DISTINCT delivered_via, 0 FROM readings WHERE delivered_via IS NOT NULL;
   INSERT INTO deliveries (uplink, sequence, delivered_ms)
     SELECT u.name, r.sequence, r.delivered_ms FROM readings r CROSS JOIN uplinks u
     WHERE r.delivered_ms IS NOT NULL;
   INSERT INTO deliveries (uplink, sequence)
     SELECT u.name, r.sequence FROM readings r CROSS JOIN uplinks u
     WHERE r.delivered_ms IS NULL AND r.expired_ms IS NULL;
   INSERT INTO deliveries (uplink, sequence, expired_ms, expired_reason)
     SELECT 'v1', sequence, expired_ms, expired_reason FROM readings
     WHERE delivered_ms IS NULL AND expired_ms IS NOT NULL;
   DROP INDEX readings_pending;
   ALTER TABLE readings DROP COLUMN delivered_ms;
   ALTER TABLE readings DROP COLUMN delivered_via;
   ALTER TABLE readings DROP COLUMN expired_ms;
   ALTER TABLE readings DROP COLUMN expired_reason;`,

  // 3: orders the automatic trader placed for the meter (trading/), one per market and interval.
  // The signed transaction is kept before it is broadcast, so that after a crash the same
  // transaction (same nonce: it can be mined at most once) is looked up or sent again.
  `CREATE TABLE trade_orders (
     market TEXT NOT NULL,
     interval INTEGER NOT NULL,
     side TEXT NOT NULL CHECK (side IN ('offer', 'bid')),
     owner TEXT NOT NULL,
     wh INTEGER NOT NULL,
     price_per_kwh TEXT NOT NULL,
     nonce INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('sent', 'placed', 'failed', 'dropped')),
     order_id TEXT,
     reason TEXT,
     created_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL,
     PRIMARY KEY (market, interval)
   );`,
];

/** The schema version this agent writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings `db` to SCHEMA_VERSION; refuses a store written by a newer agent. */
export function migrate(db: DatabaseSync): void {
  const { user_version: version } = db.prepare("PRAGMA user_version").get() as { user_version: number };
  if (version > MIGRATIONS.length) {
    throw new Error(`schema version ${version} is newer than this agent knows (${MIGRATIONS.length})`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
}

/** Version 1's schema alone, for tests that need a store as an older agent left it. */
export function createVersion1Schema(db: DatabaseSync): void {
  db.exec(MIGRATIONS[0]!);
  db.exec("PRAGMA user_version = 1");
}
