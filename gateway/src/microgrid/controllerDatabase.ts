import { DatabaseSync } from "node:sqlite";

import { StoreError } from "../common/errors.js";

/**
 * The controller's SQLite file (seed 000 Table 1 but Usage_Data, which is files): Meter_States,
 * Meter_Last_Update, the controller variables, how far each meter's readings are stored and
 * acknowledged, the outbox of commands for meters, and an index of the usage files. WAL with
 * `synchronous=FULL`: a write that returned survives a power cut, which is what lets the controller
 * acknowledge readings to a meter right after recording them.
 */
export function openControllerDatabase(path: string): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    migrate(db);
    return db;
  } catch (cause) {
    if (db?.isOpen) db.close();
    throw new StoreError(`cannot open the controller database ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Runs `fn` in one write transaction: all of it is durable, or none of it. Called inside another
 * transaction it joins it, so callers can group writes that are each transactional on their own.
 */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

/** Versioned schema: each step runs once, in order, recorded in `user_version`. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE variables (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

   -- Meters are keyed by their lower-case address.
   CREATE TABLE meter_states (
     meter                 TEXT PRIMARY KEY,
     is_on                 INTEGER NOT NULL DEFAULT 1 CHECK (is_on IN (0, 1)),
     sharing_power         INTEGER NOT NULL DEFAULT 0 CHECK (sharing_power IN (0, 1)),
     aggregating           INTEGER NOT NULL DEFAULT 0 CHECK (aggregating IN (0, 1)),
     reducing_power_demand INTEGER NOT NULL DEFAULT 0 CHECK (reducing_power_demand IN (0, 1)),
     -- NULL for a meter without a battery.
     battery_threshold     REAL CHECK (battery_threshold BETWEEN 0 AND 1),
     battery_percent       REAL CHECK (battery_percent BETWEEN 0 AND 1),
     battery_reported_ms   INTEGER
   ) STRICT;

   CREATE TABLE meter_last_update (meter TEXT PRIMARY KEY, last_update_ms INTEGER NOT NULL) STRICT;

   -- Highest sequence written to a usage file, and highest the meter was told is safe here.
   CREATE TABLE meter_sequences (
     meter                TEXT PRIMARY KEY,
     stored_through       INTEGER NOT NULL CHECK (stored_through >= 0),
     acknowledged_through INTEGER NOT NULL CHECK (acknowledged_through >= 0),
     CHECK (acknowledged_through <= stored_through)
   ) STRICT;

   -- Commands for meters, delivered in id order per meter. A newer command for the same slot
   -- (e.g. share_power_off after a still pending share_power_on) replaces the pending one.
   CREATE TABLE meter_outbox (
     id          INTEGER PRIMARY KEY AUTOINCREMENT,
     meter       TEXT NOT NULL,
     slot        TEXT NOT NULL,
     command     TEXT NOT NULL,
     params      TEXT NOT NULL,
     status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'refused', 'superseded')),
     attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
     last_error  TEXT,
     created_ms  INTEGER NOT NULL,
     done_ms     INTEGER
   ) STRICT;
   CREATE INDEX meter_outbox_pending ON meter_outbox (meter, id) WHERE status = 'pending';

   -- An index of the usage files, so that listing ten weeks of backups needs no decompression.
   -- The files are the truth: this is rebuilt from them at every start.
   CREATE TABLE usage_hours (
     hour     TEXT PRIMARY KEY,
     readings INTEGER NOT NULL CHECK (readings >= 0),
     backup   INTEGER NOT NULL DEFAULT 0 CHECK (backup IN (0, 1))
   ) STRICT;`,
];

function migrate(db: DatabaseSync): void {
  const { user_version: version } = db.prepare("PRAGMA user_version").get() as { user_version: number };
  if (version > MIGRATIONS.length)
    throw new Error(`schema version ${version} is newer than this controller knows (${MIGRATIONS.length})`);
  for (let v = version; v < MIGRATIONS.length; v++) {
    inTransaction(db, () => {
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}
