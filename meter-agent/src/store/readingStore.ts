import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { Address, Hex, MeterReading, SignedReading } from "@gridmesh/contracts";

import { migrate } from "./storeSchema.js";
import { StoreError } from "./storeErrors.js";
import { TradeOrders } from "./tradeOrders.js";

/** Backups of delivered readings are kept ten weeks, then collected (seed 000 §2.1). */
export const BACKUP_RETENTION_MS = 10 * 7 * 24 * 3_600_000;

/** The registers sampled at the start of `interval`: where the next reading begins. */
export interface Anchor {
  interval: bigint;
  importWh: bigint;
  exportWh: bigint;
  atMs: number;
}

/** What one uplink did with one reading; neither time set means it still waits for that uplink. */
export interface UplinkDelivery {
  uplink: string;
  deliveredMs: number | null;
  expiredMs: number | null;
  expiredReason: string | null;
}

export interface StoredReading extends SignedReading {
  createdMs: number;
  /** Once no uplink waits for the reading: when the last uplink that took it did so (else null). */
  deliveredMs: number | null;
  /** Once no uplink waits for it: the uplinks that took it, comma-separated in delivery order. */
  deliveredVia: string | null;
  /** Once no uplink waits for it and none took it: when the last one gave up on it. */
  expiredMs: number | null;
  expiredReason: string | null;
  /** Per uplink, in delivery order (still waiting last). */
  deliveries: UplinkDelivery[];
}

/**
 * `pending`: some uplink still waits for the reading; `delivered`: none waits, and at least one
 * took it; `expired`: none waits, and none could take it.
 */
export interface StoreCounts {
  total: number;
  pending: number;
  delivered: number;
  expired: number;
}

/** One uplink's share of the store: readings waiting for it, taken by it, given up by it. */
export interface UplinkCounts {
  pending: number;
  delivered: number;
  expired: number;
}

export interface ReadingStoreOptions {
  /**
   * The uplinks readings are owed to, by name. Given (the agent gives its configuration's), the
   * store owes readings to exactly these: an uplink new to the store is owed every reading still
   * pending and every later one; one no longer listed is forgotten (what it delivered stays
   * recorded; what waited for it now waits for the others only). Not given (tools and tests that
   * look at or drive a store), the store keeps the uplinks it knows and adds any uplink that
   * delivers, expires or asks for pending readings, the same way.
   */
  uplinks?: readonly string[];
}

/**
 * The agent's durable memory, one SQLite file per meter: every signed reading, which uplinks have
 * delivered it, the anchor the next reading starts from, the meter state the controller sets, and
 * the orders the automatic trader placed.
 *
 * Each write is one transaction committed with `synchronous=FULL` in WAL mode, so a reading that
 * `append` returned from survives SIGKILL and power loss; the reading, its delivery rows (one per
 * uplink, waiting) and the anchor move together, so a crash can never leave a reading without its
 * successor's start, or a reading that some uplink would never be offered.
 */
export class ReadingStore {
  readonly meter: Address;
  /** Orders the automatic trader placed for this meter. */
  readonly trades: TradeOrders;
  readonly #db: DatabaseSync;
  readonly #q: Record<Query, StatementSync>;
  readonly #uplinks = new Set<string>();
  /** Whether an uplink is added by using it (no list given at open). */
  readonly #openSet: boolean;

  private constructor(db: DatabaseSync, meter: Address, openSet: boolean) {
    this.#db = db;
    this.meter = meter;
    this.#openSet = openSet;
    const q = (sql: string) => {
      const s = db.prepare(sql);
      s.setReadBigInts(true);
      return s;
    };
    const waiting = "d.delivered_ms IS NULL AND d.expired_ms IS NULL";
    // Pending anywhere: some uplink waits for it, or no uplink has ever been named for it.
    const pendingAnywhere = `(EXISTS (SELECT 1 FROM deliveries d WHERE d.sequence = r.sequence AND ${waiting})
       OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.sequence = r.sequence))`;
    const statements: Record<Query, StatementSync> = {
      insert: q(`INSERT INTO readings (sequence, interval, import_start_wh, import_end_wh, export_start_wh,
                   export_end_wh, timestamp, signature, created_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      owe: q(`INSERT INTO deliveries (uplink, sequence) VALUES (?, ?)`),
      setAnchor: q(`INSERT INTO anchor (id, interval, import_wh, export_wh, at_ms) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET interval = excluded.interval, import_wh = excluded.import_wh,
                    export_wh = excluded.export_wh, at_ms = excluded.at_ms`),
      anchor: q(`SELECT interval, import_wh, export_wh, at_ms FROM anchor WHERE id = 1`),
      last: q(`SELECT * FROM readings ORDER BY sequence DESC LIMIT 1`),
      bySequence: q(`SELECT * FROM readings WHERE sequence = ?`),
      newestWaiting: q(`SELECT r.* FROM deliveries d JOIN readings r ON r.sequence = d.sequence
                        WHERE d.uplink = ? AND ${waiting} ORDER BY d.sequence DESC LIMIT ?`),
      oldestWaiting: q(`SELECT r.* FROM deliveries d JOIN readings r ON r.sequence = d.sequence
                        WHERE d.uplink = ? AND ${waiting} ORDER BY d.sequence ASC LIMIT ?`),
      newestPending: q(`SELECT * FROM readings r WHERE ${pendingAnywhere} ORDER BY sequence DESC LIMIT ?`),
      oldestPending: q(`SELECT * FROM readings r WHERE ${pendingAnywhere} ORDER BY sequence ASC LIMIT ?`),
      since: q(`SELECT * FROM readings WHERE sequence > ? ORDER BY sequence ASC LIMIT ?`),
      range: q(`SELECT * FROM readings WHERE sequence BETWEEN ? AND ? ORDER BY sequence ASC`),
      deliveriesIn: q(`SELECT * FROM deliveries WHERE sequence BETWEEN ? AND ?
                       ORDER BY sequence, delivered_ms IS NULL, delivered_ms, expired_ms IS NULL, expired_ms,
                         uplink`),
      // An uplink that gave up on a reading may still take it later (e.g. a controller catching up).
      deliver: q(`INSERT INTO deliveries (uplink, sequence, delivered_ms)
                  SELECT ?, sequence, ? FROM readings WHERE sequence = ?
                  ON CONFLICT (uplink, sequence) DO UPDATE SET delivered_ms = excluded.delivered_ms
                  WHERE deliveries.delivered_ms IS NULL`),
      expire: q(`INSERT INTO deliveries (uplink, sequence, expired_ms, expired_reason)
                 SELECT ?, sequence, ?, ? FROM readings WHERE sequence = ?
                 ON CONFLICT (uplink, sequence) DO UPDATE SET expired_ms = excluded.expired_ms,
                 expired_reason = excluded.expired_reason
                 WHERE deliveries.delivered_ms IS NULL AND deliveries.expired_ms IS NULL`),
      // Never the newest reading (it carries the sequence the next one continues), never one an
      // uplink waits for, never one no uplink took.
      collect: q(`DELETE FROM readings WHERE sequence < (SELECT MAX(sequence) FROM readings)
                  AND sequence IN (SELECT sequence FROM deliveries GROUP BY sequence
                    HAVING COUNT(*) FILTER (WHERE delivered_ms IS NULL AND expired_ms IS NULL) = 0
                    AND MAX(delivered_ms) < ?)`),
      collectDeliveries: q(`DELETE FROM deliveries WHERE sequence NOT IN (SELECT sequence FROM readings)`),
      counts: q(`SELECT COUNT(*) AS total,
                   COUNT(*) FILTER (WHERE s.rows IS NULL OR s.waiting > 0) AS pending,
                   COUNT(*) FILTER (WHERE s.waiting = 0 AND s.delivered > 0) AS delivered,
                   COUNT(*) FILTER (WHERE s.waiting = 0 AND s.delivered = 0) AS expired
                 FROM readings r LEFT JOIN (
                   SELECT sequence, COUNT(*) AS rows, COUNT(delivered_ms) AS delivered,
                     COUNT(*) FILTER (WHERE delivered_ms IS NULL AND expired_ms IS NULL) AS waiting
                   FROM deliveries GROUP BY sequence) s ON s.sequence = r.sequence`),
      uplinkCounts: q(`SELECT u.name AS uplink,
                         COUNT(d.sequence) FILTER (WHERE d.delivered_ms IS NULL AND d.expired_ms IS NULL) AS pending,
                         COUNT(d.delivered_ms) AS delivered,
                         COUNT(d.sequence) FILTER (WHERE d.delivered_ms IS NULL AND d.expired_ms IS NOT NULL) AS expired
                       FROM uplinks u LEFT JOIN deliveries d ON d.uplink = u.name
                       GROUP BY u.name ORDER BY u.name`),
      uplinks: q(`SELECT name FROM uplinks ORDER BY name`),
      addUplink: q(`INSERT INTO uplinks (name, added_ms) VALUES (?, ?)`),
      backfill: q(`INSERT INTO deliveries (uplink, sequence) SELECT ?, r.sequence FROM readings r
                   WHERE ${pendingAnywhere} ON CONFLICT (uplink, sequence) DO NOTHING`),
      dropUplink: q(`DELETE FROM uplinks WHERE name = ?`),
      dropWaiting: q(`DELETE FROM deliveries AS d WHERE d.uplink = ? AND ${waiting}`),
      getState: q(`SELECT value FROM meter_state WHERE key = ?`),
      putState: q(`INSERT INTO meter_state (key, value) VALUES (?, ?)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    };
    this.#q = statements;
    for (const row of this.#q.uplinks.all() as { name: string }[]) this.#uplinks.add(row.name);
    this.trades = new TradeOrders(db);
  }

  /**
   * Opens (creating or upgrading if needed) the store at `path` for `meter`. A store written for
   * another meter is refused: mixing two meters' sequences would corrupt both.
   */
  static open(path: string, meter: Address, options: ReadingStoreOptions = {}): ReadingStore {
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
    const store = new ReadingStore(db, meter, options.uplinks === undefined);
    if (options.uplinks !== undefined) store.#owe(options.uplinks);
    return store;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** The uplinks readings are owed to. */
  get uplinks(): string[] {
    return [...this.#uplinks].sort();
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
   * Stores a signed reading, owed to every uplink, and the anchor for the next one in one
   * transaction. The reading must continue the stored sequence: a duplicate or out-of-order
   * sequence or interval is refused and nothing changes.
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
      for (const uplink of this.#uplinks) this.#q.owe.run(uplink, r.sequence);
      this.setAnchor(next);
    });
    return {
      ...signed,
      createdMs: nowMs,
      deliveredMs: null,
      deliveredVia: null,
      expiredMs: null,
      expiredReason: null,
      deliveries: [...this.#uplinks].map((uplink) => ({
        uplink,
        deliveredMs: null,
        expiredMs: null,
        expiredReason: null,
      })),
    };
  }

  last(): StoredReading | undefined {
    return this.#stored([this.#q.last.get() as Row | undefined].filter((r) => r !== undefined))[0];
  }

  get(sequence: bigint): StoredReading | undefined {
    return this.#stored(
      [this.#q.bySequence.get(sequence) as Row | undefined].filter((r) => r !== undefined),
    )[0];
  }

  /**
   * Readings waiting for `uplink`, newest first (the request stack) or oldest first; without an
   * uplink, the readings some uplink waits for.
   */
  pending(
    limit: number,
    order: "newest-first" | "oldest-first" = "newest-first",
    uplink?: string,
  ): StoredReading[] {
    if (uplink === undefined) {
      const q = order === "newest-first" ? this.#q.newestPending : this.#q.oldestPending;
      return this.#stored(q.all(limit) as Row[]);
    }
    this.#require(uplink);
    const q = order === "newest-first" ? this.#q.newestWaiting : this.#q.oldestWaiting;
    return this.#stored(q.all(uplink, limit) as Row[]);
  }

  /** Every stored reading after `sequence`, delivered or not, oldest first. */
  since(sequence: bigint, limit: number): StoredReading[] {
    return this.#stored(this.#q.since.all(sequence, limit) as Row[]);
  }

  range(first: bigint, last: bigint): StoredReading[] {
    return this.#stored(this.#q.range.all(first, last) as Row[]);
  }

  /**
   * Records that `via` took these readings; returns how many changed (ones it already had, and
   * unknown sequences, are left as they were). A receiver that is not one of the store's uplinks
   * (a controller acknowledging readings it pulled anyway) is recorded too, and owed nothing.
   */
  markDelivered(sequences: readonly bigint[], via: string, nowMs: number): number {
    let changed = 0;
    this.#transaction(() => {
      if (this.#openSet) this.#owe([via], { keepOthers: true });
      for (const s of sequences) changed += Number(this.#q.deliver.run(via, nowMs, s).changes);
    });
    return changed;
  }

  /**
   * `via` gives up on a reading it can never take (e.g. past the on-chain deadline); the reading
   * stays stored, and other uplinks still get it. False when `via` had it already or gave up before.
   */
  markExpired(sequence: bigint, via: string, reason: string, nowMs: number): boolean {
    return this.#transaction(() => {
      if (this.#openSet) this.#owe([via], { keepOthers: true });
      return Number(this.#q.expire.run(via, nowMs, reason, sequence).changes) === 1;
    });
  }

  /**
   * Deletes readings no uplink waits for, delivered longer than the retention ago. The newest
   * reading is always kept, since it carries the sequence the next reading continues.
   */
  collectGarbage(nowMs: number, retentionMs = BACKUP_RETENTION_MS): number {
    return this.#transaction(() => {
      const removed = Number(this.#q.collect.run(nowMs - retentionMs).changes);
      if (removed > 0) this.#q.collectDeliveries.run();
      return removed;
    });
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

  /** Per uplink readings are owed to (expired: given up by it and not taken later). */
  uplinkCounts(): Record<string, UplinkCounts> {
    const out: Record<string, UplinkCounts> = {};
    for (const r of this.#q.uplinkCounts.all() as Row[]) {
      out[r.uplink as string] = {
        pending: Number(r.pending),
        delivered: Number(r.delivered),
        expired: Number(r.expired),
      };
    }
    return out;
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

  /** Adds the uplinks in `names` the store does not owe readings to yet; drops the others unless kept. */
  #owe(names: readonly string[], { keepOthers = false } = {}): void {
    const wanted = new Set(names);
    const added = [...wanted].filter((n) => !this.#uplinks.has(n));
    const dropped = keepOthers ? [] : [...this.#uplinks].filter((n) => !wanted.has(n));
    if (added.length === 0 && dropped.length === 0) return;
    this.#transaction(() => {
      // Additions first: a reading that waited only for a dropped uplink is still pending, so a
      // new uplink takes it over rather than nobody.
      for (const name of added) {
        this.#q.addUplink.run(name, Date.now());
        this.#q.backfill.run(name);
      }
      for (const name of dropped) {
        this.#q.dropWaiting.run(name);
        this.#q.dropUplink.run(name);
      }
    });
    for (const name of added) this.#uplinks.add(name);
    for (const name of dropped) this.#uplinks.delete(name);
  }

  #require(uplink: string): void {
    if (this.#uplinks.has(uplink)) return;
    if (!this.#openSet) {
      throw new StoreError(
        `no readings are owed to uplink "${uplink}" (the store's uplinks: ${this.uplinks.join(", ") || "none"})`,
      );
    }
    this.#owe([uplink], { keepOthers: true });
  }

  /** Rows with their delivery state, in one query for the whole run of sequences. */
  #stored(rows: Row[]): StoredReading[] {
    if (rows.length === 0) return [];
    const sequences = rows.map((r) => r.sequence as bigint);
    let lo = sequences[0]!;
    let hi = lo;
    for (const s of sequences) {
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    const bySequence = new Map<bigint, UplinkDelivery[]>();
    for (const d of this.#q.deliveriesIn.all(lo, hi) as Row[]) {
      const list = bySequence.get(d.sequence as bigint) ?? [];
      list.push({
        uplink: d.uplink as string,
        deliveredMs: num(d.delivered_ms),
        expiredMs: num(d.expired_ms),
        expiredReason: d.expired_reason as string | null,
      });
      bySequence.set(d.sequence as bigint, list);
    }
    return rows.map((row) => toStored(row, this.meter, bySequence.get(row.sequence as bigint) ?? []));
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
  | "owe"
  | "setAnchor"
  | "anchor"
  | "last"
  | "bySequence"
  | "newestWaiting"
  | "oldestWaiting"
  | "newestPending"
  | "oldestPending"
  | "since"
  | "range"
  | "deliveriesIn"
  | "deliver"
  | "expire"
  | "collect"
  | "collectDeliveries"
  | "counts"
  | "uplinkCounts"
  | "uplinks"
  | "addUplink"
  | "backfill"
  | "dropUplink"
  | "dropWaiting"
  | "getState"
  | "putState";

type Row = Record<string, bigint | string | null>;

const num = (v: bigint | string | null | undefined) => (v === null || v === undefined ? null : Number(v));

function toStored(row: Row, meter: Address, deliveries: UplinkDelivery[]): StoredReading {
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
  const waiting =
    deliveries.length === 0 || deliveries.some((d) => d.deliveredMs === null && d.expiredMs === null);
  const took = deliveries.filter((d) => d.deliveredMs !== null);
  const gaveUp = deliveries.filter((d) => d.deliveredMs === null && d.expiredMs !== null);
  const settled = !waiting;
  return {
    reading,
    signature: row.signature as Hex,
    createdMs: Number(row.created_ms),
    deliveredMs: settled && took.length > 0 ? Math.max(...took.map((d) => d.deliveredMs!)) : null,
    deliveredVia: settled && took.length > 0 ? took.map((d) => d.uplink).join(",") : null,
    expiredMs: settled && took.length === 0 ? Math.max(...gaveUp.map((d) => d.expiredMs!)) : null,
    expiredReason: settled && took.length === 0 ? gaveUp.map((d) => d.expiredReason ?? "").join("; ") : null,
    deliveries,
  };
}
