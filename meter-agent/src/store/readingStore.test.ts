import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

import type { Address, Hex, MeterReading } from "@gridmesh/contracts";

import { tempDir } from "../testing/tempDir.js";
import { BACKUP_RETENTION_MS, ReadingStore } from "./readingStore.js";

const METER = "0x00000000000000000000000000000000000000a1" as Address;
const SIG: Hex = `0x${"11".repeat(65)}`;

function reading(sequence: bigint, interval: bigint, from = 0n): MeterReading {
  return {
    meter: METER,
    interval,
    sequence,
    importStartWh: from,
    importEndWh: from + 10n,
    exportStartWh: 0n,
    exportEndWh: 5n,
    timestamp: (interval + 1n) * 60n,
  };
}
const anchor = (interval: bigint, importWh: bigint) => ({
  interval,
  importWh,
  exportWh: 5n,
  atMs: Number(interval) * 60_000,
});

describe("ReadingStore", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let path: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    path = join(dir, "readings.db");
  });
  afterEach(() => cleanup());

  it("keeps readings, anchor and state across reopening", () => {
    const store = ReadingStore.open(path, METER);
    store.append({ reading: reading(1n, 10n), signature: SIG }, anchor(11n, 10n), 1000);
    store.append({ reading: reading(2n, 11n, 10n), signature: SIG }, anchor(12n, 20n), 2000);
    store.putState("sharing_power", true);
    store.close();

    const again = ReadingStore.open(path, METER);
    assert.deepEqual(again.last()?.reading, reading(2n, 11n, 10n));
    assert.equal(again.last()?.signature, SIG);
    assert.deepEqual(again.anchor(), anchor(12n, 20n));
    assert.equal(again.getState<boolean>("sharing_power"), true);
    assert.deepEqual(again.counts(), { total: 2, pending: 2, delivered: 0, expired: 0 });
    again.close();
  });

  it("refuses a store written for another meter", () => {
    ReadingStore.open(path, METER).close();
    assert.throws(
      () => ReadingStore.open(path, "0x00000000000000000000000000000000000000b2"),
      /belongs to meter 0x0+a1/,
    );
  });

  it("refuses a reading that does not continue the sequence, and changes nothing", () => {
    const store = ReadingStore.open(path, METER);
    store.append({ reading: reading(1n, 10n), signature: SIG }, anchor(11n, 10n), 1000);
    assert.throws(
      () => store.append({ reading: reading(3n, 11n), signature: SIG }, anchor(12n, 20n), 2000),
      /sequence 3 does not follow the stored 1/,
    );
    assert.throws(
      () => store.append({ reading: reading(2n, 10n), signature: SIG }, anchor(12n, 20n), 2000),
      /interval 10 is not after the stored 10/,
    );
    assert.throws(
      () =>
        store.append(
          {
            reading: { ...reading(2n, 11n), meter: "0x00000000000000000000000000000000000000b2" },
            signature: SIG,
          },
          anchor(12n, 20n),
          2000,
        ),
      /offered to the store/,
    );
    assert.equal(store.counts().total, 1);
    assert.deepEqual(store.anchor(), anchor(11n, 10n));
    store.close();
  });

  it("hands out pending readings newest first or oldest first, and forgets delivered and expired ones", () => {
    const store = ReadingStore.open(path, METER);
    for (let s = 1n; s <= 5n; s++)
      store.append({ reading: reading(s, 10n + s), signature: SIG }, anchor(11n + s, 0n), 1000);
    assert.deepEqual(
      store.pending(3).map((r) => r.reading.sequence),
      [5n, 4n, 3n],
    );
    assert.deepEqual(
      store.pending(3, "oldest-first").map((r) => r.reading.sequence),
      [1n, 2n, 3n],
    );
    assert.equal(store.markDelivered([5n, 3n], "gateway", 2000), 2);
    assert.equal(store.markDelivered([5n], "gateway", 3000), 0, "a second delivery changes nothing");
    assert.equal(store.get(5n)?.deliveredMs, 2000);
    assert.equal(store.markExpired(1n, "too late", 2000), true);
    assert.equal(store.markExpired(5n, "too late", 2000), false, "a delivered reading cannot expire");
    assert.deepEqual(
      store.pending(10).map((r) => r.reading.sequence),
      [4n, 2n],
    );
    assert.deepEqual(store.counts(), { total: 5, pending: 2, delivered: 2, expired: 1 });
    assert.equal(store.get(1n)?.expiredReason, "too late");
    store.close();
  });

  it("collects delivered backups after ten weeks, never pending ones nor the newest reading", () => {
    const store = ReadingStore.open(path, METER);
    for (let s = 1n; s <= 4n; s++)
      store.append({ reading: reading(s, 10n + s), signature: SIG }, anchor(11n + s, 0n), 0);
    store.markDelivered([1n, 2n, 4n], "gateway", 1000);
    assert.equal(store.collectGarbage(1000 + BACKUP_RETENTION_MS - 1), 0, "not yet ten weeks");
    assert.equal(store.collectGarbage(1000 + BACKUP_RETENTION_MS + 1), 2);
    assert.deepEqual(
      store.since(0n, 10).map((r) => r.reading.sequence),
      [3n, 4n],
    );
    // The sequence continues after collection.
    store.append({ reading: reading(5n, 20n), signature: SIG }, anchor(21n, 0n), 2000);
    assert.equal(store.last()?.reading.sequence, 5n);
    store.close();
  });
});
