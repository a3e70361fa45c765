/**
 * Where the embedded ledger keeps committed state: world state with per-key history, the organisations'
 * private collections, the chaincode events, and one "block" per committed transaction. A commit applies
 * a whole transaction or nothing. Reads are synchronous because both backends are (a Map, node:sqlite).
 */
export interface TxTimestamp {
  seconds: number;
  nanos: number;
}

/** A write of a simulated transaction; `value: null` deletes the key. */
export interface StateWrite {
  key: string;
  value: Uint8Array | null;
}

export interface PrivateWrite extends StateWrite {
  collection: string;
}

export interface ChaincodeEventRecord {
  name: string;
  payload: Uint8Array;
}

export interface CommitRequest {
  txId: string;
  timestamp: TxTimestamp;
  fn: string;
  creatorMsp: string;
  writes: readonly StateWrite[];
  privateWrites: readonly PrivateWrite[];
  event: ChaincodeEventRecord | null;
}

export interface KeyValue {
  key: string;
  value: Uint8Array;
}

export interface HistoryRecord {
  txId: string;
  timestamp: TxTimestamp;
  isDelete: boolean;
  value: Uint8Array;
}

export interface StoredEvent extends ChaincodeEventRecord {
  blockNumber: number;
  txId: string;
}

export interface StateBackend {
  getState(key: string): Uint8Array | undefined;
  /** Keys in [startKey, endKey) in UTF-8 byte order, as Fabric's LevelDB orders them; "" ends nowhere. */
  getStateRange(startKey: string, endKey: string): KeyValue[];
  /** Newest first, as Fabric ≥ 2.0 returns history. */
  getHistory(key: string): HistoryRecord[];
  getPrivate(collection: string, key: string): Uint8Array | undefined;
  getPrivateRange(collection: string, startKey: string, endKey: string): KeyValue[];
  hasTransaction(txId: string): boolean;
  /** Applies the transaction atomically and returns its block number. */
  commit(request: CommitRequest): number;
  eventsFrom(blockNumber: number): StoredEvent[];
  /** The last block number, 0 before the first commit. */
  height(): number;
  close(): void;
}

export class DuplicateTransactionError extends Error {
  override readonly name = "DuplicateTransactionError";
  constructor(readonly txId: string) {
    super(`transaction ${txId} was already committed (DUPLICATE_TXID)`);
  }
}

/** Byte order of the UTF-8 encodings, which differs from JS string order for astral characters. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function inRange(key: string, startKey: string, endKey: string): boolean {
  return compareKeys(key, startKey) >= 0 && (endKey === "" || compareKeys(key, endKey) < 0);
}
