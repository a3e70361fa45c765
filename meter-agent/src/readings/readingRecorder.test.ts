import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

import { Wallet } from "ethers";

import type { Address } from "@gridmesh/contracts";

import { ReadingSigner, recoverReadingSigner } from "../signing/readingSigner.js";
import { ReadingStore } from "../store/readingStore.js";
import { tempDir } from "../testing/tempDir.js";
import { profileRegisterSource } from "./registerSource.js";
import { ReadingRecorder } from "./readingRecorder.js";
import { homeProfile } from "../serial/homeProfile.js";

const I = 60; // seconds per interval
const domain = { chainId: 31337n, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };
const sample = (atS: number, importWh: bigint, exportWh: bigint) => ({
  atMs: atS * 1000,
  importWh,
  exportWh,
});

describe("ReadingRecorder", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: ReadingStore;
  let recorder: ReadingRecorder;
  const wallet = Wallet.createRandom();
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    store = ReadingStore.open(join(dir, "r.db"), wallet.address as Address);
    const signer = new ReadingSigner(wallet, wallet.address as Address, domain);
    recorder = new ReadingRecorder({ store, signer, intervalSeconds: I, toleranceMs: 2000 });
  });
  afterEach(async () => {
    store.close();
    await cleanup();
  });

  it("makes one signed reading per interval between boundary samples", async () => {
    assert.deepEqual(await recorder.record(sample(100 * I, 1000n, 50n)), {
      kind: "anchored",
      interval: 100n,
      reason: "first",
    });
    const out = await recorder.record(sample(101 * I + 1, 1012n, 57n));
    assert.equal(out.kind, "recorded");
    const r = store.last()!;
    assert.deepEqual(r.reading, {
      meter: wallet.address,
      interval: 100n,
      sequence: 1n,
      importStartWh: 1000n,
      importEndWh: 1012n,
      exportStartWh: 50n,
      exportEndWh: 57n,
      timestamp: BigInt(101 * I + 1),
    });
    assert.equal(recoverReadingSigner(r, domain), wallet.address);
    await recorder.record(sample(102 * I, 1020n, 60n));
    assert.deepEqual(
      store.last()!.reading,
      {
        ...r.reading,
        interval: 101n,
        sequence: 2n,
        importStartWh: 1012n,
        importEndWh: 1020n,
        exportStartWh: 57n,
        exportEndWh: 60n,
        timestamp: BigInt(102 * I),
      },
      "continuous: each reading starts where the previous ended",
    );
  });

  it("skips a sample taken too long after its boundary, and restarts the chain at the next one", async () => {
    await recorder.record(sample(100 * I, 1000n, 0n));
    assert.deepEqual(await recorder.record(sample(101 * I + 3, 1010n, 0n)), {
      kind: "skipped",
      reason: "late",
    });
    assert.deepEqual(await recorder.record(sample(102 * I, 1020n, 0n)), {
      kind: "anchored",
      interval: 102n,
      reason: "gap",
    });
    await recorder.record(sample(103 * I, 1025n, 0n));
    assert.equal(store.last()!.reading.interval, 102n);
    assert.equal(store.last()!.reading.sequence, 1n, "no reading was made across the gap");
  });

  it("takes a boundary once, even when a restarted agent samples it again", async () => {
    await recorder.record(sample(100 * I, 1000n, 0n));
    await recorder.record(sample(101 * I, 1010n, 0n));
    assert.deepEqual(await recorder.record(sample(101 * I + 1, 1011n, 0n)), {
      kind: "skipped",
      reason: "already-recorded",
    });
    assert.equal(store.counts().total, 1);
  });

  it("does not sign a reading across a register reset", async () => {
    await recorder.record(sample(100 * I, 1000n, 0n));
    assert.deepEqual(await recorder.record(sample(101 * I, 3n, 0n)), {
      kind: "anchored",
      interval: 101n,
      reason: "registers-reset",
    });
    assert.equal(store.counts().total, 0);
  });

  it("reads a simulated home whose registers are the same function of time after a restart", async () => {
    let now = Date.UTC(2026, 5, 1, 6);
    const clock = { now: () => now, delayUntil: () => 0 };
    const options = { profile: homeProfile(), clock, originMs: Date.UTC(2026, 5, 1), startImportWh: 5000 };
    const a = profileRegisterSource(options);
    const samples = [];
    for (let h = 0; h < 12; h++, now += 3_600_000 + 1234) samples.push(await a.read());
    now = Date.UTC(2026, 5, 1, 6);
    const b = profileRegisterSource(options); // a restarted agent
    for (const s of samples) {
      now = s.atMs;
      assert.deepEqual(await b.read(), s);
    }
    for (let i = 1; i < samples.length; i++) {
      assert.ok(
        samples[i]!.importWh >= samples[i - 1]!.importWh && samples[i]!.exportWh >= samples[i - 1]!.exportWh,
      );
    }
    assert.ok(
      samples.at(-1)!.exportWh > 5000n,
      "a sunny day exports (4 kW peak solar against a ~300 W load)",
    );
  });
});
