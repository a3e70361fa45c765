import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLOutputValue, type StatementSync } from "node:sqlite";

import {
  DuplicateTransactionError,
  type CommitRequest,
  type HistoryRecord,
  type KeyValue,
  type StateBackend,
  type StoredEvent,
} from "./stateBackend.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (
  number INTEGER PRIMARY KEY,
  tx_id TEXT NOT NULL UNIQUE,
  fn TEXT NOT NULL,
  creator_msp TEXT NOT NULL,
  ts_seconds INTEGER NOT NULL,
  ts_nanos INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key BLOB PRIMARY KEY, value BLOB NOT NULL, block INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
  key BLOB NOT NULL,
  block INTEGER NOT NULL,
  is_delete INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (key, block)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private_state (
  collection TEXT NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  block INTEGER PRIMARY KEY,
  tx_id TEXT NOT NULL,
  name TEXT NOT NULL,
  payload BLOB NOT NULL
);
`;

/**
 * Committed state in one SQLite file (node:sqlite): the embedded developer ledger that survives restarts.
 * Keys are stored as UTF-8 BLOBs so SQLite's memcmp order is Fabric's byte order, and every chaincode
 * transaction is one SQLite transaction, so a crash or a failed commit leaves no partial write.
 */
export class SqliteBackend implements StateBackend {
  readonly #db: DatabaseSync;
  readonly #sql: Record<
    | "getState"
    | "range"
    | "rangeOpen"
    | "history"
    | "getPrivate"
    | "privateRange"
    | "privateRangeOpen"
    | "hasTx"
    | "height"
    | "insertBlock"
    | "putState"
    | "deleteState"
    | "insertHistory"
    | "putPrivate"
    | "deletePrivate"
    | "insertEvent"
    | "events",
    StatementSync
  >;

  constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes, which is what a
    // developer ledger needs (an OS crash may lose the last transactions, never corrupt the file).
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.#db.exec(SCHEMA);
    const prepare = (sql: string) => this.#db.prepare(sql);
    this.#sql = {
      getState: prepare("SELECT value FROM state WHERE key = ?"),
      range: prepare("SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key"),
      rangeOpen: prepare("SELECT key, value FROM state WHERE key >= ? ORDER BY key"),
      history: prepare(
        `SELECT b.tx_id, b.ts_seconds, b.ts_nanos, h.is_delete, h.value
         FROM history h JOIN blocks b ON b.number = h.block WHERE h.key = ? ORDER BY h.block DESC`,
      ),
      getPrivate: prepare("SELECT value FROM private_state WHERE collection = ? AND key = ?"),
      privateRange: prepare(
        "SELECT key, value FROM private_state WHERE collection = ? AND key >= ? AND key < ? ORDER BY key",
      ),
      privateRangeOpen: prepare(
        "SELECT key, value FROM private_state WHERE collection = ? AND key >= ? ORDER BY key",
      ),
      hasTx: prepare("SELECT 1 AS found FROM blocks WHERE tx_id = ?"),
      height: prepare("SELECT COALESCE(MAX(number), 0) AS height FROM blocks"),
      insertBlock: prepare(
        "INSERT INTO blocks (number, tx_id, fn, creator_msp, ts_seconds, ts_nanos) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      putState: prepare(
        "INSERT INTO state (key, value, block) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, block = excluded.block",
      ),
      deleteState: prepare("DELETE FROM state WHERE key = ?"),
      insertHistory: prepare("INSERT INTO history (key, block, is_delete, value) VALUES (?, ?, ?, ?)"),
      putPrivate: prepare(
        `INSERT INTO private_state (collection, key, value, block) VALUES (?, ?, ?, ?)
         ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value, block = excluded.block`,
      ),
      deletePrivate: prepare("DELETE FROM private_state WHERE collection = ? AND key = ?"),
      insertEvent: prepare("INSERT INTO events (block, tx_id, name, payload) VALUES (?, ?, ?, ?)"),
      events: prepare("SELECT block, tx_id, name, payload FROM events WHERE block >= ? ORDER BY block"),
    };
  }

  getState(key: string): Uint8Array | undefined {
    return bytesOrUndefined(this.#sql.getState.get(utf8(key))?.value);
  }

  getStateRange(startKey: string, endKey: string): KeyValue[] {
    const rows =
      endKey === ""
        ? this.#sql.rangeOpen.all(utf8(startKey))
        : this.#sql.range.all(utf8(startKey), utf8(endKey));
    return rows.map(keyValue);
  }

  getHistory(key: string): HistoryRecord[] {
    return this.#sql.history.all(utf8(key)).map((row) => ({
      txId: String(row.tx_id),
      timestamp: { seconds: Number(row.ts_seconds), nanos: Number(row.ts_nanos) },
      isDelete: Number(row.is_delete) === 1,
      value: bytes(row.value),
    }));
  }

  getPrivate(collection: string, key: string): Uint8Array | undefined {
    return bytesOrUndefined(this.#sql.getPrivate.get(collection, utf8(key))?.value);
  }

  getPrivateRange(collection: string, startKey: string, endKey: string): KeyValue[] {
    const rows =
      endKey === ""
        ? this.#sql.privateRangeOpen.all(collection, utf8(startKey))
        : this.#sql.privateRange.all(collection, utf8(startKey), utf8(endKey));
    return rows.map(keyValue);
  }

  hasTransaction(txId: string): boolean {
    return this.#sql.hasTx.get(txId) !== undefined;
  }

  commit(request: CommitRequest): number {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const blockNumber = this.height() + 1;
      // The block row first: a duplicate transaction id fails on its UNIQUE constraint before any write.
      try {
        this.#sql.insertBlock.run(
          blockNumber,
          request.txId,
          request.fn,
          request.creatorMsp,
          request.timestamp.seconds,
          request.timestamp.nanos,
        );
      } catch (cause) {
        if (this.hasTransaction(request.txId)) throw new DuplicateTransactionError(request.txId);
        throw cause;
      }
      for (const { key, value } of request.writes) {
        if (value === null) this.#sql.deleteState.run(utf8(key));
        else this.#sql.putState.run(utf8(key), value, blockNumber);
        this.#sql.insertHistory.run(
          utf8(key),
          blockNumber,
          value === null ? 1 : 0,
          value ?? new Uint8Array(),
        );
      }
      for (const { collection, key, value } of request.privateWrites) {
        if (value === null) this.#sql.deletePrivate.run(collection, utf8(key));
        else this.#sql.putPrivate.run(collection, utf8(key), value, blockNumber);
      }
      if (request.event) {
        this.#sql.insertEvent.run(blockNumber, request.txId, request.event.name, request.event.payload);
      }
      this.#db.exec("COMMIT");
      return blockNumber;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  eventsFrom(blockNumber: number): StoredEvent[] {
    return this.#sql.events.all(blockNumber).map((row) => ({
      blockNumber: Number(row.block),
      txId: String(row.tx_id),
      name: String(row.name),
      payload: bytes(row.payload),
    }));
  }

  height(): number {
    return Number(this.#sql.height.get()?.height ?? 0);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "utf8"));
}

function bytes(value: SQLOutputValue | undefined): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new Error(`expected a BLOB column, got ${typeof value}`);
}

function bytesOrUndefined(value: SQLOutputValue | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : bytes(value);
}

function keyValue(row: Record<string, SQLOutputValue>): KeyValue {
  return { key: Buffer.from(bytes(row.key)).toString("utf8"), value: bytes(row.value) };
}
