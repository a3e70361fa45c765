import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, it } from "node:test";

import type { Address, Hex, MeterReading } from "@gridmesh/contracts";

import { tempDir } from "../testing/tempDir.js";
import { BACKUP_RETENTION_MS, ReadingStore } from "./readingStore.js";
import { SCHEMA_VERSION, createVersion1Schema } from "./storeSchema.js";

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
const sequences = (rows: { reading: MeterReading }[]) => rows.map((r) => r.reading.sequence);
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
    assert.equal(store.markExpired(1n, "gateway", "too late", 2000), true);
    assert.equal(
      store.markExpired(5n, "gateway", "too late", 2000),
      false,
      "a delivered reading cannot expire",
    );
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

describe("ReadingStore with several uplinks", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let path: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    path = join(dir, "readings.db");
  });
  afterEach(() => cleanup());

  const fill = (store: ReadingStore, from: bigint, to: bigint) => {
    for (let s = from; s <= to; s++)
      store.append({ reading: reading(s, 10n + s), signature: SIG }, anchor(11n + s, 0n), 1000);
  };

  it("owes each reading to every uplink, and one uplink's deliveries leave the other's queue alone", () => {
    const store = ReadingStore.open(path, METER, { uplinks: ["gateway", "controller"] });
    fill(store, 1n, 4n);
    assert.equal(store.markDelivered([4n, 3n], "gateway", 2000), 2);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "gateway")), [2n, 1n]);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "controller")), [4n, 3n, 2n, 1n]);
    assert.deepEqual(sequences(store.pending(10)), [4n, 3n, 2n, 1n], "pending while any uplink waits");
    assert.equal(store.get(4n)?.deliveredMs, null, "not delivered until every uplink has it");

    assert.equal(store.markDelivered([4n, 3n, 2n, 1n], "controller", 3000), 4);
    assert.equal(store.markDelivered([4n], "controller", 4000), 0, "a second delivery changes nothing");
    assert.deepEqual(store.counts(), { total: 4, pending: 2, delivered: 2, expired: 0 });
    assert.equal(store.get(4n)?.deliveredVia, "gateway,controller");
    assert.equal(store.get(4n)?.deliveredMs, 3000);
    assert.deepEqual(store.uplinkCounts(), {
      controller: { pending: 0, delivered: 4, expired: 0 },
      gateway: { pending: 2, delivered: 2, expired: 0 },
    });
    store.close();
  });

  it("keeps a reading one uplink gave up on for the others", () => {
    const store = ReadingStore.open(path, METER, { uplinks: ["chain", "controller"] });
    fill(store, 1n, 2n);
    assert.equal(store.markExpired(1n, "chain", "too late", 2000), true);
    assert.equal(store.markExpired(1n, "chain", "too late again", 2500), false);
    assert.deepEqual(sequences(store.pending(10, "oldest-first", "chain")), [2n]);
    assert.deepEqual(sequences(store.pending(10, "oldest-first", "controller")), [1n, 2n]);
    store.markDelivered([1n], "controller", 3000);
    const one = store.get(1n)!;
    assert.deepEqual(
      [one.deliveredVia, one.expiredMs, one.deliveries],
      [
        "controller",
        null,
        [
          { uplink: "controller", deliveredMs: 3000, expiredMs: null, expiredReason: null },
          { uplink: "chain", deliveredMs: null, expiredMs: 2000, expiredReason: "too late" },
        ],
      ],
    );
    // Given up by the only uplink that could take it: expired, with the reason.
    store.markDelivered([2n], "chain", 3000);
    assert.equal(store.markExpired(2n, "controller", "never pulled", 4000), true);
    assert.deepEqual(store.counts(), { total: 2, pending: 0, delivered: 2, expired: 0 });
    store.close();
  });

  it("gives an uplink added later the readings still pending, and stops waiting for one removed", () => {
    let store = ReadingStore.open(path, METER, { uplinks: ["gateway"] });
    fill(store, 1n, 3n);
    store.markDelivered([3n, 2n], "gateway", 2000);
    store.close();

    store = ReadingStore.open(path, METER, { uplinks: ["gateway", "controller"] });
    assert.deepEqual(store.uplinks, ["controller", "gateway"]);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "controller")), [1n]);
    fill(store, 4n, 4n);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "controller")), [4n, 1n]);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "gateway")), [4n, 1n]);
    store.close();

    // The gateway goes from the configuration: nothing waits for it any more, the controller still does.
    store = ReadingStore.open(path, METER, { uplinks: ["controller"] });
    assert.throws(
      () => store.pending(10, "newest-first", "gateway"),
      /no readings are owed to uplink "gateway"/,
    );
    assert.deepEqual(store.counts(), { total: 4, pending: 2, delivered: 2, expired: 0 });
    assert.equal(store.get(2n)?.deliveredVia, "gateway", "what it delivered stays recorded");
    store.close();
  });

  it("records a receiver it owes nothing to without waiting for it", () => {
    const store = ReadingStore.open(path, METER, { uplinks: ["gateway"] });
    fill(store, 1n, 2n);
    assert.equal(store.markDelivered([1n, 2n, 9n], "controller", 2000), 2, "unknown sequences are skipped");
    assert.deepEqual(store.uplinks, ["gateway"]);
    assert.deepEqual(store.counts().pending, 2);
    store.markDelivered([1n], "gateway", 3000);
    assert.equal(store.get(1n)?.deliveredVia, "controller,gateway");
    store.close();
  });

  it("never collects a reading an uplink still waits for", () => {
    const store = ReadingStore.open(path, METER, { uplinks: ["gateway", "controller"] });
    fill(store, 1n, 3n);
    store.markDelivered([1n, 2n, 3n], "gateway", 1000);
    store.markDelivered([2n], "controller", 1000);
    assert.equal(store.collectGarbage(1000 + BACKUP_RETENTION_MS + 1), 1);
    assert.deepEqual(sequences(store.since(0n, 10)), [1n, 3n]);
    assert.deepEqual(store.uplinkCounts().controller, { pending: 2, delivered: 0, expired: 0 });
    store.close();
  });
});

describe("ReadingStore upgrading a version 1 store (one uplink per agent)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let path: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    path = join(dir, "readings.db");
  });
  afterEach(() => cleanup());

  /** A store as a version 1 agent left it: readings 1–5, 1–2 delivered via `via`, 3 expired, 4–5 pending. */
  function version1Store(via: string | null) {
    const db = new DatabaseSync(path);
    createVersion1Schema(db);
    db.prepare("INSERT INTO meta (key, value) VALUES ('meter', ?)").run(METER.toLowerCase());
    const insert = db.prepare(`INSERT INTO readings (sequence, interval, import_start_wh, import_end_wh,
      export_start_wh, export_end_wh, timestamp, signature, created_ms, delivered_ms, delivered_via,
      expired_ms, expired_reason) VALUES (?, ?, ?, ?, 0, 5, ?, ?, 100, ?, ?, ?, ?)`);
    for (let s = 1; s <= 5; s++) {
      const r = reading(BigInt(s), BigInt(10 + s), BigInt(10 * (s - 1)));
      const delivered = via !== null && s <= 2;
      const expired = s === 3;
      insert.run(
        s,
        10 + s,
        r.importStartWh,
        r.importEndWh,
        r.timestamp,
        SIG,
        delivered ? 1000 + s : null,
        delivered ? via : null,
        expired ? 2000 : null,
        expired ? "signature is not the meter's" : null,
      );
    }
    db.prepare(
      "INSERT INTO anchor (id, interval, import_wh, export_wh, at_ms) VALUES (1, 16, 50, 5, 0)",
    ).run();
    db.prepare("INSERT INTO meter_state (key, value) VALUES ('sharing_power', 'true')").run();
    db.close();
  }

  it("keeps every reading and its state, and gives a newly added uplink only the pending ones", () => {
    version1Store("gateway");
    const store = ReadingStore.open(path, METER, { uplinks: ["gateway", "controller"] });
    assert.deepEqual(store.counts(), { total: 5, pending: 2, delivered: 2, expired: 1 });
    assert.deepEqual(sequences(store.pending(10, "newest-first", "gateway")), [5n, 4n]);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "controller")), [5n, 4n]);
    assert.deepEqual(
      [store.get(1n)?.deliveredMs, store.get(1n)?.deliveredVia, store.get(3n)?.expiredReason],
      [1001, "gateway", "signature is not the meter's"],
    );
    assert.deepEqual(store.get(5n)?.reading, reading(5n, 15n, 40n));
    assert.deepEqual(store.anchor(), { interval: 16n, importWh: 50n, exportWh: 5n, atMs: 0 });
    assert.equal(store.getState<boolean>("sharing_power"), true);
    // The sequence continues.
    store.append({ reading: reading(6n, 16n, 50n), signature: SIG }, anchor(17n, 60n), 3000);
    assert.deepEqual(sequences(store.pending(10, "newest-first", "controller")), [6n, 5n, 4n]);
    store.close();

    const db = new DatabaseSync(path);
    const columns = (db.prepare("PRAGMA table_info(readings)").all() as { name: string }[]).map(
      (c) => c.name,
    );
    assert.ok(!columns.includes("delivered_ms"), `old delivery columns are gone: ${columns.join(", ")}`);
    assert.equal(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      SCHEMA_VERSION,
    );
    db.close();
  });

  it("upgrades a store that never delivered anything: every reading still pending stays pending", () => {
    version1Store(null);
    let store = ReadingStore.open(path, METER);
    assert.deepEqual(store.counts(), { total: 5, pending: 4, delivered: 0, expired: 1 });
    store.close();
    store = ReadingStore.open(path, METER, { uplinks: ["chain"] });
    assert.deepEqual(sequences(store.pending(10, "oldest-first", "chain")), [1n, 2n, 4n, 5n]);
    store.close();
  });
});
