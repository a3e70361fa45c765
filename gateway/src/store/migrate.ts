import { createHash } from "node:crypto";

import { SchemaMismatchError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Database, Queryable } from "./database.js";
import { migrations as allMigrations } from "./migrations/index.js";

export interface Migration {
  /** 1, 2, 3, … with no gaps: the schema version once this migration has run. */
  version: number;
  name: string;
  /** PostgreSQL statements, run as one script inside the migration's transaction. */
  sql: string;
}

export interface MigrateParameters {
  logger: Logger;
  /** Defaults to the gateway's own migrations; tests pass their own lists. */
  migrations?: readonly Migration[];
}

export interface MigrateReturnType {
  /** The schema version the database is at now. */
  version: number;
  /** Versions this call applied, oldest first; empty when the schema was already current. */
  applied: number[];
}

// One fixed key for every gateway sharing a database ("gridmesh" in ASCII).
const MIGRATION_LOCK_KEY = "7454127354985719656";

/**
 * Brings the schema up to the newest migration, each in its own transaction, recorded in
 * `schema_migrations`. Safe when several gateways start at once: every step first takes a
 * transaction-scoped advisory lock, then rereads the applied versions, so one gateway applies
 * each migration and the others find it done. Refuses, changing nothing, a database whose
 * schema is newer than this code or whose applied migrations differ from the code's.
 */
export async function migrate(
  db: Database,
  { logger, migrations = allMigrations }: MigrateParameters,
): Promise<MigrateReturnType> {
  checkMigrationList(migrations);
  const applied: number[] = [];
  for (;;) {
    const step = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      // Inside the lock: two gateways creating the table at once would collide in the catalog.
      await tx.exec(`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version    INTEGER PRIMARY KEY,
          name       TEXT NOT NULL,
          checksum   TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )`);
      const current = await appliedVersion(tx, migrations);
      const next = migrations[current];
      if (next === undefined) return { current, next };
      await tx.exec(next.sql);
      await tx.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
        next.version,
        next.name,
        checksumOf(next),
      ]);
      return { current, next };
    });
    if (step.next === undefined) {
      if (applied.length === 0) logger.debug({ version: step.current }, "database schema is current");
      return { version: step.current, applied };
    }
    applied.push(step.next.version);
    logger.info({ version: step.next.version, migration: step.next.name }, "applied database migration");
  }
}

/** Checks the recorded migrations against the code's and returns how many have been applied. */
async function appliedVersion(tx: Queryable, migrations: readonly Migration[]): Promise<number> {
  const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
  );
  const known = migrations.length;
  const newest = rows.at(-1)?.version ?? 0;
  if (newest > known) {
    throw new SchemaMismatchError(
      `database schema is at version ${newest}, newer than this gateway's ${known}; run a newer gateway`,
      { details: { databaseVersion: newest, codeVersion: known } },
    );
  }
  rows.forEach((row, i) => {
    const migration = migrations[i]!;
    if (row.version !== migration.version) {
      throw new SchemaMismatchError(`database is missing migration ${migration.version}`, {
        details: { recorded: rows.map((r) => r.version) },
      });
    }
    if (row.checksum !== checksumOf(migration)) {
      throw new SchemaMismatchError(
        `migration ${migration.version} (${migration.name}) differs from the one applied to the database`,
        { details: { version: migration.version, recordedName: row.name } },
      );
    }
  });
  return rows.length;
}

function checksumOf(migration: Migration): string {
  return createHash("sha256").update(migration.sql).digest("hex");
}

/** A programming error in the migration list must stop the gateway before it touches the data. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new Error(`migration at position ${i} has version ${migration.version}, expected ${i + 1}`);
    }
    if (migration.name.trim() === "" || migration.sql.trim() === "") {
      throw new Error(`migration ${migration.version} needs a name and SQL`);
    }
  });
}
