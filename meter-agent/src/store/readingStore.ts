import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { Address, Hex, MeterReading, SignedReading } from "@gridmesh/contracts";

import { StoreError } from "./storeErrors.js";

/** Backups of delivered readings are kept ten weeks, then collected (seed 000 §2.1). */
export const BACKUP_RETENTION_MS = 10 * 7 * 24 * 3_600_000;

/** The registers sampled at the start of `interval`: where the next reading begins. */
export interface Anchor {
  interval: bigint;
  importWh: bigint;
  exportWh: bigint;
  atMs: number;
}

export interface StoredReading extends SignedReading {
  createdMs: number;
  deliveredMs: number | null;
  deliveredVia: string | null;
  expiredMs: number | null;
  expiredReason: string | null;
}

export interface StoreCounts {
  total: number;
  pending: number;
  delivered: number;
  expired: number;
}

/**
 * The agent's durable memory, one SQLite file per meter: every signed reading, whether it has been
 * delivered, the anchor the next reading starts from, and the meter state the controller sets.
 *
 * Each write is one transaction committed with `synchronous=FULL` in WAL mode, so a reading that
 * `append` returned from survives SIGKILL and power loss; the reading and the anchor move together,
 * so a crash can never leave a reading without its successor's start or the reverse.
 */
export class ReadingStore {
  readonly meter: Address;
  readonly #db: DatabaseSync;
  readonly #q: Record<Query, StatementSync>;

  private constructor(db: DatabaseSync, meter: Address) {
    this.#db = db;
    this.meter = meter;
    const q = (sql: string) => {
      const s = db.prepare(sql);
      s.setReadBigInts(true);
      return s;
    };
    const statements: Record<Query, StatementSync> = {
      insert: q(`INSERT INTO readings (sequence, interval, import_start_wh, import_end_wh, export_start_wh,
                   export_end_wh, timestamp, signature, created_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      setAnchor: q(`INSERT INTO anchor (id, interval, import_wh, export_wh, at_ms) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET interval = excluded.interval, import_wh = excluded.import_wh,
                    export_wh = excluded.export_wh, at_ms = excluded.at_ms`),
      anchor: q(`SELECT interval, import_wh, export_wh, at_ms FROM anchor WHERE id = 1`),
      last: q(`SELECT * FROM readings ORDER BY sequence DESC LIMIT 1`),
      bySequence: q(`SELECT * FROM readings WHERE sequence = ?`),
      newestPending: q(`SELECT * FROM readings WHERE delivered_ms IS NULL AND expired_ms IS NULL
                        ORDER BY sequence DESC LIMIT ?`),
      oldestPending: q(`SELECT * FROM readings WHERE delivered_ms IS NULL AND expired_ms IS NULL
                        ORDER BY sequence ASC LIMIT ?`),
      since: q(`SELECT * FROM readings WHERE sequence > ? ORDER BY sequence ASC LIMIT ?`),
      range: q(`SELECT * FROM readings WHERE sequence BETWEEN ? AND ? ORDER BY sequence ASC`),
      deliver: q(`UPDATE readings SET delivered_ms = ?, delivered_via = ?
                  WHERE sequence = ? AND delivered_ms IS NULL`),
      expire: q(`UPDATE readings SET expired_ms = ?, expired_reason = ?
                 WHERE sequence = ? AND delivered_ms IS NULL AND expired_ms IS NULL`),
      collect: q(`DELETE FROM readings WHERE delivered_ms IS NOT NULL AND delivered_ms < ?
                  AND sequence < (SELECT MAX(sequence) FROM readings)`),
      counts: q(`SELECT COUNT(*) AS total,
                   COUNT(*) FILTER (WHERE delivered_ms IS NULL AND expired_ms IS NULL) AS pending,
                   COUNT(delivered_ms) AS delivered, COUNT(expired_ms) AS expired FROM readings`),
      getState: q(`SELECT value FROM meter_state WHERE key = ?`),
      putState: q(`INSERT INTO meter_state (key, value) VALUES (?, ?)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    };
    this.#q = statements;
  }

  /**
   * Opens (creating if needed) the store at `path` for `meter`. A store written for another meter
   * is refused: mixing two meters' sequences would corrupt both.
   */
  static open(path: string, meter: Address): ReadingStore {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
      migrate(db);
    } catch (cause) {
      throw new StoreError(`cannot open the reading store at ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const row = db.prepare("SELECT value FROM meta WHERE key = 'meter'").get() as
      { value: string } | undefined;
    if (row === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('meter', ?)").run(meter.toLowerCase());
    } else if (row.value !== meter.toLowerCase()) {
      db.close();
      throw new StoreError(`the reading store at ${path} belongs to meter ${row.value}, not ${meter}`);
    }
    return new ReadingStore(db, meter);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  anchor(): Anchor | undefined {
    const r = this.#q.anchor.get() as Row | undefined;
    if (r === undefined) return undefined;
    return {
      interval: r.interval as bigint,
      importWh: r.import_wh as bigint,
      exportWh: r.export_wh as bigint,
      atMs: Number(r.at_ms),
    };
  }

  /** Starts (or restarts, after a gap) the chain of readings at a boundary sample. */
  setAnchor(a: Anchor): void {
    this.#q.setAnchor.run(a.interval, a.importWh, a.exportWh, a.atMs);
  }

  /**
   * Stores a signed reading and the anchor for the next one in one transaction. The reading must
   * continue the stored sequence: a duplicate or out-of-order sequence or interval is refused and
   * nothing changes.
   */
  append(signed: SignedReading, next: Anchor, nowMs: number): StoredReading {
    const { reading: r, signature } = signed;
    if (r.meter.toLowerCase() !== this.meter.toLowerCase()) {
      throw new StoreError(`reading for meter ${r.meter} offered to the store of ${this.meter}`);
    }
    const last = this.last();
    if (last !== undefined) {
      if (r.sequence !== last.reading.sequence + 1n) {
        throw new StoreError(
          `reading sequence ${r.sequence} does not follow the stored ${last.reading.sequence}`,
        );
      }
      if (r.interval <= last.reading.interval) {
        throw new StoreError(
          `reading interval ${r.interval} is not after the stored ${last.reading.interval}`,
        );
      }
    }
    this.#transaction(() => {
      this.#q.insert.run(
        r.sequence,
        r.interval,
        r.importStartWh,
        r.importEndWh,
        r.exportStartWh,
        r.exportEndWh,
        r.timestamp,
        signature,
        nowMs,
      );
      this.setAnchor(next);
    });
    return {
      ...signed,
      createdMs: nowMs,
      deliveredMs: null,
      deliveredVia: null,
      expiredMs: null,
      expiredReason: null,
    };
  }

  last(): StoredReading | undefined {
    return toStored(this.#q.last.get() as Row | undefined, this.meter);
  }

  get(sequence: bigint): StoredReading | undefined {
    return toStored(this.#q.bySequence.get(sequence) as Row | undefined, this.meter);
  }

  /** Undelivered, unexpired readings: newest first (the request stack) or oldest first. */
  pending(limit: number, order: "newest-first" | "oldest-first" = "newest-first"): StoredReading[] {
    const q = order === "newest-first" ? this.#q.newestPending : this.#q.oldestPending;
    return (q.all(limit) as Row[]).map((row) => toStored(row, this.meter)!);
  }

  /** Every stored reading after `sequence`, delivered or not, oldest first. */
  since(sequence: bigint, limit: number): StoredReading[] {
    return (this.#q.since.all(sequence, limit) as Row[]).map((row) => toStored(row, this.meter)!);
  }

  range(first: bigint, last: bigint): StoredReading[] {
    return (this.#q.range.all(first, last) as Row[]).map((row) => toStored(row, this.meter)!);
  }

  /** Marks readings delivered; returns how many changed (already delivered ones are left as they were). */
  markDelivered(sequences: readonly bigint[], via: string, nowMs: number): number {
    let changed = 0;
    this.#transaction(() => {
      for (const s of sequences) changed += Number(this.#q.deliver.run(nowMs, via, s).changes);
    });
    return changed;
  }

  /** Gives up on a reading no receiver can ever take (e.g. past the on-chain deadline); it stays stored. */
  markExpired(sequence: bigint, reason: string, nowMs: number): boolean {
    return Number(this.#q.expire.run(nowMs, reason, sequence).changes) === 1;
  }

  /**
   * Deletes delivered readings older than the retention. The newest reading is always kept, since
   * it carries the sequence the next reading continues.
   */
  collectGarbage(nowMs: number, retentionMs = BACKUP_RETENTION_MS): number {
    return Number(this.#q.collect.run(nowMs - retentionMs).changes);
  }

  counts(): StoreCounts {
    const r = this.#q.counts.get() as Row;
    return {
      total: Number(r.total),
      pending: Number(r.pending),
      delivered: Number(r.delivered),
      expired: Number(r.expired),
    };
  }

  /** Meter state set by the controller (seed 000 Table 1, Meter_States), as JSON values. */
  getState<T>(key: string): T | undefined {
    const r = this.#q.getState.get(key) as { value: string } | undefined;
    return r === undefined ? undefined : (JSON.parse(r.value) as T);
  }

  putState(key: string, value: unknown): void {
    this.#q.putState.run(key, JSON.stringify(value));
  }

  /**
   * Runs `fn` in one write transaction: all of it is durable, or none. Store methods called inside
   * it join it rather than committing on their own.
   */
  transaction<T>(fn: () => T): T {
    return this.#transaction(fn);
  }

  #inTransaction = false;

  #transaction<T>(fn: () => T): T {
    // An inner call joins the outer transaction, so callers can group store methods atomically.
    if (this.#inTransaction) return fn();
    this.#inTransaction = true;
    try {
      return this.#commit(fn);
    } finally {
      this.#inTransaction = false;
    }
  }

  #commit<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.#db.exec("COMMIT");
      return out;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }
}

type Query =
  | "insert"
  | "setAnchor"
  | "anchor"
  | "last"
  | "bySequence"
  | "newestPending"
  | "oldestPending"
  | "since"
  | "range"
  | "deliver"
  | "expire"
  | "collect"
  | "counts"
  | "getState"
  | "putState";

type Row = Record<string, bigint | string | null>;

function toStored(row: Row | undefined, meter: Address): StoredReading | undefined {
  if (row === undefined) return undefined;
  const reading: MeterReading = {
    meter,
    interval: row.interval as bigint,
    sequence: row.sequence as bigint,
    importStartWh: row.import_start_wh as bigint,
    importEndWh: row.import_end_wh as bigint,
    exportStartWh: row.export_start_wh as bigint,
    exportEndWh: row.export_end_wh as bigint,
    timestamp: row.timestamp as bigint,
  };
  const num = (v: bigint | string | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    reading,
    signature: row.signature as Hex,
    createdMs: Number(row.created_ms),
    deliveredMs: num(row.delivered_ms),
    deliveredVia: row.delivered_via as string | null,
    expiredMs: num(row.expired_ms),
    expiredReason: row.expired_reason as string | null,
  };
}

/** Versioned schema: each step runs once, in order, recorded in `user_version`. */
const MIGRATIONS: readonly string[] = [
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
];

function migrate(db: DatabaseSync): void {
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
