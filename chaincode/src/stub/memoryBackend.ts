import { canonicalJson } from "../marshal.js";
import {
  compareKeys,
  DuplicateTransactionError,
  inRange,
  type CommitRequest,
  type HistoryRecord,
  type KeyValue,
  type StateBackend,
  type StoredEvent,
} from "./stateBackend.js";

/** Committed state in Maps, for unit tests: gone when the process ends. */
export class MemoryBackend implements StateBackend {
  readonly #state = new Map<string, Uint8Array>();
  readonly #history = new Map<string, HistoryRecord[]>();
  readonly #private = new Map<string, Map<string, Uint8Array>>();
  readonly #txIds = new Set<string>();
  readonly #events: StoredEvent[] = [];
  #height = 0;

  getState(key: string): Uint8Array | undefined {
    return this.#state.get(key);
  }

  getStateRange(startKey: string, endKey: string): KeyValue[] {
    return sortedRange(this.#state, startKey, endKey);
  }

  getHistory(key: string): HistoryRecord[] {
    return [...(this.#history.get(key) ?? [])].reverse();
  }

  getPrivate(collection: string, key: string): Uint8Array | undefined {
    return this.#private.get(collection)?.get(key);
  }

  getPrivateRange(collection: string, startKey: string, endKey: string): KeyValue[] {
    return sortedRange(this.#private.get(collection) ?? new Map(), startKey, endKey);
  }

  hasTransaction(txId: string): boolean {
    return this.#txIds.has(txId);
  }

  commit(request: CommitRequest): number {
    // Every check before the first change: a Map has no rollback.
    if (this.#txIds.has(request.txId)) throw new DuplicateTransactionError(request.txId);
    const blockNumber = ++this.#height;
    this.#txIds.add(request.txId);
    for (const { key, value } of request.writes) {
      if (value === null) this.#state.delete(key);
      else this.#state.set(key, value);
      const history = this.#history.get(key) ?? [];
      history.push({
        txId: request.txId,
        timestamp: request.timestamp,
        isDelete: value === null,
        value: value ?? new Uint8Array(),
      });
      this.#history.set(key, history);
    }
    for (const { collection, key, value } of request.privateWrites) {
      const entries = this.#private.get(collection) ?? new Map<string, Uint8Array>();
      if (value === null) entries.delete(key);
      else entries.set(key, value);
      this.#private.set(collection, entries);
    }
    if (request.event) this.#events.push({ ...request.event, blockNumber, txId: request.txId });
    return blockNumber;
  }

  eventsFrom(blockNumber: number): StoredEvent[] {
    return this.#events.filter((e) => e.blockNumber >= blockNumber);
  }

  height(): number {
    return this.#height;
  }

  close(): void {}

  /** Everything committed, as canonical text: tests compare it to prove a refusal wrote nothing. */
  dump(): string {
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
    return canonicalJson({
      height: this.#height,
      state: [...this.#state].sort(([a], [b]) => compareKeys(a, b)).map(([k, v]) => [k, hex(v)]),
      history: [...this.#history]
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([k, h]) => [k, h.map((r) => [r.txId, r.isDelete, hex(r.value)])]),
      private: [...this.#private]
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([c, m]) => [c, sortedRange(m, "", "").map((kv) => [kv.key, hex(kv.value)])]),
      events: this.#events.map((e) => [e.blockNumber, e.txId, e.name, hex(e.payload)]),
    });
  }
}

function sortedRange(map: ReadonlyMap<string, Uint8Array>, startKey: string, endKey: string): KeyValue[] {
  return [...map]
    .filter(([key]) => inRange(key, startKey, endKey))
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([key, value]) => ({ key, value }));
}
