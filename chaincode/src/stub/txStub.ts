import { createHash } from "node:crypto";

import type {
  ChaincodeProposal,
  ChaincodeStub,
  Iterators,
  SerializedIdentity,
  SplitCompositekey,
  StateQueryResponse,
} from "fabric-shim-api";
import Long from "long";

import { paginate, queryResult } from "./queryIterators.js";
import type {
  ChaincodeEventRecord,
  KeyValue,
  PrivateWrite,
  StateBackend,
  StateWrite,
  TxTimestamp,
} from "./stateBackend.js";

const COMPOSITE_NS = "\x00";
const MIN_RUNE = "\x00";
const MAX_RUNE = "\u{10FFFF}";
/** The shim's start for an open range: just above the composite-key namespace. */
const EMPTY_START = "\x01";
const IMPLICIT_PREFIX = "_implicit_org_";

export interface TxStubInit {
  backend: StateBackend;
  channel: string;
  txId: string;
  timestamp: TxTimestamp;
  creator: SerializedIdentity;
  /** The MSP of the peer simulating the proposal (CORE_PEER_LOCALMSPID on a real peer). */
  peerMsp: string;
  fn: string;
  args: readonly string[];
  transient: ReadonlyMap<string, Uint8Array>;
}

/**
 * One proposal's view of the embedded ledger, behaving as a Fabric peer's simulator does: reads see
 * committed state only (never this transaction's own writes), writes are collected into a write set that
 * is applied only if the whole transaction succeeds and validates, the last `setEvent` wins, and a peer
 * can read only its own organisation's implicit collection.
 */
export class TxStub implements ChaincodeStub {
  readonly #init: TxStubInit;
  readonly #writes = new Map<string, Uint8Array | null>();
  readonly #privateWrites = new Map<string, Map<string, Uint8Array | null>>();
  #event: ChaincodeEventRecord | null = null;

  constructor(init: TxStubInit) {
    this.#init = init;
  }

  /** The write set, sorted by key like Fabric's read-write set, so two simulations compare byte for byte. */
  writeSet(): { writes: StateWrite[]; privateWrites: PrivateWrite[]; event: ChaincodeEventRecord | null } {
    const writes = [...this.#writes].map(([key, value]) => ({ key, value })).sort(byKey);
    const privateWrites = [...this.#privateWrites]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([collection, entries]) =>
        [...entries].map(([key, value]) => ({ collection, key, value })).sort(byKey),
      );
    return { writes, privateWrites, event: this.#event };
  }

  getArgs(): string[] {
    return [this.#init.fn, ...this.#init.args];
  }

  getStringArgs(): string[] {
    return this.getArgs();
  }

  getFunctionAndParameters(): { params: string[]; fcn: string } {
    return { fcn: this.#init.fn, params: [...this.#init.args] };
  }

  getTxID(): string {
    return this.#init.txId;
  }

  getChannelID(): string {
    return this.#init.channel;
  }

  getCreator(): SerializedIdentity {
    return this.#init.creator;
  }

  getMspID(): string {
    return this.#init.peerMsp;
  }

  getTransient(): Map<string, Uint8Array> {
    return new Map(this.#init.transient);
  }

  getSignedProposal(): ChaincodeProposal.SignedProposal {
    throw unsupported("getSignedProposal");
  }

  getTxTimestamp(): { seconds: Long; nanos: number } {
    return {
      seconds: Long.fromNumber(this.#init.timestamp.seconds, true),
      nanos: this.#init.timestamp.nanos,
    };
  }

  getDateTimestamp(): Date {
    return new Date(this.#init.timestamp.seconds * 1000 + Math.floor(this.#init.timestamp.nanos / 1e6));
  }

  getBinding(): string {
    throw unsupported("getBinding");
  }

  getState(key: string): Promise<Uint8Array> {
    return attempt(() => {
      checkKey(key);
      return this.#init.backend.getState(key) ?? new Uint8Array();
    });
  }

  putState(key: string, value: Uint8Array): Promise<void> {
    return attempt(() => {
      checkKey(key);
      checkValue(key, value);
      this.#writes.set(key, new Uint8Array(value));
    });
  }

  deleteState(key: string): Promise<void> {
    return attempt(() => {
      checkKey(key);
      this.#writes.set(key, null);
    });
  }

  setStateValidationParameter(): Promise<void> {
    return Promise.reject(unsupported("setStateValidationParameter"));
  }

  getStateValidationParameter(): Promise<Uint8Array> {
    return Promise.reject(unsupported("getStateValidationParameter"));
  }

  getStateByRange(startKey: string, endKey: string) {
    return this.#range(() => this.#init.backend.getStateRange(startKey || EMPTY_START, endKey));
  }

  getStateByRangeWithPagination(startKey: string, endKey: string, pageSize: number, bookmark?: string) {
    return this.#paged(this.#init.backend.getStateRange(startKey || EMPTY_START, endKey), pageSize, bookmark);
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]) {
    const prefix = this.createCompositeKey(objectType, attributes);
    return this.#range(() => this.#init.backend.getStateRange(prefix, prefix + MAX_RUNE));
  }

  getStateByPartialCompositeKeyWithPagination(
    objectType: string,
    attributes: string[],
    pageSize: number,
    bookmark?: string,
  ) {
    const prefix = this.createCompositeKey(objectType, attributes);
    return this.#paged(this.#init.backend.getStateRange(prefix, prefix + MAX_RUNE), pageSize, bookmark);
  }

  getQueryResult(): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    throw unsupported("getQueryResult (rich queries need CouchDB)");
  }

  getQueryResultWithPagination(): Promise<StateQueryResponse<Iterators.StateQueryIterator>> &
    AsyncIterable<Iterators.KV> {
    throw unsupported("getQueryResultWithPagination (rich queries need CouchDB)");
  }

  getHistoryForKey(
    key: string,
  ): Promise<Iterators.HistoryQueryIterator> & AsyncIterable<Iterators.KeyModification> {
    checkKey(key);
    return queryResult(
      this.#init.backend.getHistory(key).map((h) => ({
        txId: h.txId,
        isDelete: h.isDelete,
        value: h.value,
        timestamp: { seconds: Long.fromNumber(h.timestamp.seconds, true), nanos: h.timestamp.nanos },
      })),
    );
  }

  invokeChaincode(): Promise<never> {
    return Promise.reject(unsupported("invokeChaincode"));
  }

  setEvent(name: string, payload: Uint8Array): void {
    if (typeof name !== "string" || name === "") throw new Error("Event name must be a non-empty string");
    this.#event = { name, payload: new Uint8Array(payload) };
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    checkCompositePart(objectType);
    let key = COMPOSITE_NS + objectType + MIN_RUNE;
    for (const attribute of attributes) {
      checkCompositePart(attribute);
      key += attribute + MIN_RUNE;
    }
    return key;
  }

  splitCompositeKey(compositeKey: string): SplitCompositekey {
    if (!compositeKey.startsWith(COMPOSITE_NS)) return { objectType: "", attributes: [] };
    const parts = compositeKey.slice(1, -1).split(MIN_RUNE);
    return { objectType: parts[0] ?? "", attributes: parts.slice(1) };
  }

  getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    return attempt(() => {
      this.#checkReadable(collection);
      checkKey(key);
      return this.#init.backend.getPrivate(collection, key) ?? new Uint8Array();
    });
  }

  getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
    return attempt(() => {
      checkCollection(collection);
      checkKey(key);
      const value = this.#init.backend.getPrivate(collection, key);
      return value ? new Uint8Array(createHash("sha256").update(value).digest()) : new Uint8Array();
    });
  }

  putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    return attempt(() => {
      checkCollection(collection);
      checkKey(key);
      checkValue(key, value);
      this.#privateEntries(collection).set(key, new Uint8Array(value));
    });
  }

  deletePrivateData(collection: string, key: string): Promise<void> {
    return attempt(() => {
      checkCollection(collection);
      checkKey(key);
      this.#privateEntries(collection).set(key, null);
    });
  }

  purgePrivateData(collection: string, key: string): Promise<void> {
    return this.deletePrivateData(collection, key);
  }

  setPrivateDataValidationParameter(): Promise<void> {
    return Promise.reject(unsupported("setPrivateDataValidationParameter"));
  }

  getPrivateDataValidationParameter(): Promise<Uint8Array> {
    return Promise.reject(unsupported("getPrivateDataValidationParameter"));
  }

  getPrivateDataByRange(collection: string, startKey: string, endKey: string) {
    this.#checkReadable(collection);
    return this.#range(() => this.#init.backend.getPrivateRange(collection, startKey || EMPTY_START, endKey));
  }

  getPrivateDataByPartialCompositeKey(collection: string, objectType: string, attributes: string[]) {
    this.#checkReadable(collection);
    const prefix = this.createCompositeKey(objectType, attributes);
    return this.#range(() => this.#init.backend.getPrivateRange(collection, prefix, prefix + MAX_RUNE));
  }

  getPrivateDataQueryResult(): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    throw unsupported("getPrivateDataQueryResult (rich queries need CouchDB)");
  }

  #privateEntries(collection: string): Map<string, Uint8Array | null> {
    let entries = this.#privateWrites.get(collection);
    if (!entries) {
      entries = new Map<string, Uint8Array | null>();
      this.#privateWrites.set(collection, entries);
    }
    return entries;
  }

  /** A peer holds only its own organisation's implicit collection; reading another's is a chaincode bug. */
  #checkReadable(collection: string): void {
    checkCollection(collection);
    const owner = collection.slice(IMPLICIT_PREFIX.length);
    if (owner !== this.#init.peerMsp) {
      throw new Error(`peer of ${this.#init.peerMsp} is not a member of collection ${collection}`);
    }
  }

  #range(read: () => KeyValue[]): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    return queryResult(read().map((kv) => ({ namespace: "secureid", key: kv.key, value: kv.value })));
  }

  #paged(
    all: KeyValue[],
    pageSize: number,
    bookmark: string | undefined,
  ): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<Iterators.KV> {
    const { page, bookmark: next } = paginate(all, pageSize, bookmark);
    const kvs = page.map((kv) => ({ namespace: "secureid", key: kv.key, value: kv.value }));
    const iterator = queryResult(kvs);
    return Object.assign(
      iterator.then((it) => ({
        iterator: it,
        metadata: { fetchedRecordsCount: kvs.length, bookmark: next },
      })),
      { [Symbol.asyncIterator]: iterator[Symbol.asyncIterator] },
    );
  }
}

function byKey(a: { key: string }, b: { key: string }): number {
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}

function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key === "") throw new Error("key must not be an empty string");
}

function checkValue(key: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new Error(`value of ${JSON.stringify(key)} must be bytes`);
  if (value.length === 0) throw new Error(`value of ${JSON.stringify(key)} is empty: use a delete`);
}

function checkCollection(collection: string): void {
  if (!collection.startsWith(IMPLICIT_PREFIX) || collection.length === IMPLICIT_PREFIX.length) {
    throw new Error(
      `collection ${collection} is not defined: the embedded ledger has implicit collections only`,
    );
  }
}

function checkCompositePart(part: string): void {
  if (part.includes(MIN_RUNE) || part.includes(MAX_RUNE)) {
    throw new Error(`composite key part ${JSON.stringify(part)} contains U+0000 or U+10FFFF`);
  }
}

function unsupported(what: string): Error {
  return new Error(`${what} is not supported by the embedded ledger`);
}
