import assert from "node:assert/strict";
import { appendFile, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";

import { pino } from "pino";

import type { Clock } from "@gridmesh/contracts";

import { HOUR_MS, hourStartMs } from "./controllerApi.js";
import { openControllerDatabase } from "./controllerDatabase.js";
import { UsageFileError } from "./controllerErrors.js";
import { USAGE_RETENTION_MS, UsageFiles } from "./usageFiles.js";

const logger = pino({ level: "silent" });
const meterA = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F";
const meterB = "0x00000000000000000000000000000000000000bb";
const H1 = "2026-11-22T13:00:00Z";
const H2 = "2026-11-22T14:00:00Z";

/** A reading as an agent sends it; the files keep whatever they are given, key order included. */
function reading(meter: string, sequence: number) {
  return {
    reading: {
      meter,
      interval: String(5_000_000 + sequence),
      sequence: String(sequence),
      importStartWh: String(1000 + sequence),
      importEndWh: String(1010 + sequence),
      exportStartWh: "0",
      exportEndWh: "0",
      timestamp: String(1_790_000_000 + sequence),
    },
    signature: `0x${String(sequence).padStart(2, "0").repeat(65)}`,
  };
}

void describe("UsageFiles", () => {
  let dir: string;
  let db: DatabaseSync;
  let files: UsageFiles;
  let nowMs = 0;
  const clock: Clock = { now: () => nowMs, delayUntil: (at) => Math.max(0, at - nowMs) };
  const usageDir = () => join(dir, "usage");

  async function reopen(): Promise<UsageFiles> {
    files = await UsageFiles.open({ dir: usageDir(), db, clock, logger });
    return files;
  }

  /** Appends as received during `hour`. */
  async function receive(hour: string, readings: unknown[]): Promise<void> {
    nowMs = hourStartMs(hour) + 30 * 60_000;
    assert.equal(await files.append(readings), hour);
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-usage-"));
    db = openControllerDatabase(join(dir, "controller.db"));
    await reopen();
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes readings into the hour they are received in, exactly as received, one JSON line each", async () => {
    const first = [reading(meterA, 1), reading(meterB, 7)];
    await receive(H1, first);
    await receive(H1, [reading(meterA, 2)]);
    await receive(H2, [reading(meterA, 3)]);
    const text = await readFile(join(usageDir(), "2026-11-22T13.jsonl"), "utf8");
    assert.equal(text, [...first, reading(meterA, 2)].map((r) => `${JSON.stringify(r)}\n`).join(""));
    assert.deepEqual(await files.read(H1), { backup: false, readings: [...first, reading(meterA, 2)] });
    assert.deepEqual(files.list(H1, H2), [
      { hour: H1, readings: 3, backup: false },
      { hour: H2, readings: 1, backup: false },
    ]);
    assert.deepEqual(files.list(H2, H2), [{ hour: H2, readings: 1, backup: false }]);
    assert.equal(await files.read("2026-11-22T15:00:00Z"), undefined);
  });

  it("turns an acknowledged hour into a lossless gzip backup and nothing can be appended to it", async () => {
    await receive(H1, [reading(meterA, 1), reading(meterA, 2)]);
    const original = await readFile(join(usageDir(), "2026-11-22T13.jsonl"));
    assert.equal(await files.markBackup(H1), "converted");
    assert.deepEqual((await readdir(usageDir())).sort(), ["2026-11-22T13.jsonl.gz"]);
    assert.ok(gunzipSync(await readFile(join(usageDir(), "2026-11-22T13.jsonl.gz"))).equals(original));
    assert.deepEqual(await files.read(H1), {
      backup: true,
      readings: [reading(meterA, 1), reading(meterA, 2)],
    });
    assert.deepEqual(files.list(H1, H1), [{ hour: H1, readings: 2, backup: true }]);
    assert.equal(await files.markBackup(H1), "already");
    assert.equal(await files.markBackup(H2), "absent");
    await assert.rejects(receive(H1, [reading(meterA, 3)]), UsageFileError, "the clock went back");
    assert.deepEqual((await files.read(H1))?.readings.length, 2);
  });

  void describe("after a crash while making a backup, one complete copy remains", () => {
    it("before the rename: the unfinished backup goes, the live file stays", async () => {
      await receive(H1, [reading(meterA, 1), reading(meterA, 2)]);
      const compressed = gzipSync(await readFile(join(usageDir(), "2026-11-22T13.jsonl")));
      await writeFile(join(usageDir(), "2026-11-22T13.jsonl.gz.tmp"), compressed.subarray(0, 10));
      await reopen();
      assert.deepEqual(await readdir(usageDir()), ["2026-11-22T13.jsonl"]);
      assert.deepEqual(await files.read(H1), {
        backup: false,
        readings: [reading(meterA, 1), reading(meterA, 2)],
      });
      assert.equal(await files.markBackup(H1), "converted");
    });

    it("after the rename, before the removal: the backup is kept and the live copy goes", async () => {
      await receive(H1, [reading(meterA, 1), reading(meterA, 2)]);
      await copyFile(join(usageDir(), "2026-11-22T13.jsonl"), join(dir, "live-copy"));
      await files.markBackup(H1);
      await copyFile(join(dir, "live-copy"), join(usageDir(), "2026-11-22T13.jsonl"));
      await reopen();
      assert.deepEqual(await readdir(usageDir()), ["2026-11-22T13.jsonl.gz"]);
      assert.deepEqual(await files.read(H1), {
        backup: true,
        readings: [reading(meterA, 1), reading(meterA, 2)],
      });
      assert.deepEqual(
        files.recoveredSequences,
        new Map(),
        "a backed-up hour's readings are not recovered as new",
      );
    });

    it("a live file and a backup that differ stop the start and both are kept", async () => {
      await receive(H1, [reading(meterA, 1)]);
      await writeFile(
        join(usageDir(), "2026-11-22T13.jsonl.gz"),
        gzipSync(`${JSON.stringify(reading(meterA, 9))}\n`),
      );
      await assert.rejects(reopen(), (e: unknown) => e instanceof UsageFileError && e.message.includes(H1));
      assert.deepEqual((await readdir(usageDir())).sort(), ["2026-11-22T13.jsonl", "2026-11-22T13.jsonl.gz"]);
    });
  });

  it("cuts a reading torn by a crash and reports the highest sequence per meter in live files", async () => {
    await receive(H1, [reading(meterA, 1), reading(meterB, 4)]);
    await receive(H2, [reading(meterA, 2), reading(meterA, 3)]);
    await appendFile(
      join(usageDir(), "2026-11-22T14.jsonl"),
      JSON.stringify(reading(meterA, 4)).slice(0, 40),
    );
    await reopen();
    assert.deepEqual((await files.read(H2))?.readings, [reading(meterA, 2), reading(meterA, 3)]);
    assert.deepEqual(
      files.recoveredSequences,
      new Map([
        [meterA.toLowerCase(), 3n],
        [meterB.toLowerCase(), 4n],
      ]),
    );
    await receive(H2, [reading(meterA, 4)]);
    assert.deepEqual((await files.read(H2))?.readings.length, 3);
  });

  it("rebuilds its index from the files when the database lost it", async () => {
    await receive(H1, [reading(meterA, 1), reading(meterA, 2)]);
    await files.markBackup(H1);
    await receive(H2, [reading(meterA, 3)]);
    db.exec("DELETE FROM usage_hours");
    await reopen();
    assert.deepEqual(files.list(H1, H2), [
      { hour: H1, readings: 2, backup: true },
      { hour: H2, readings: 1, backup: false },
    ]);
  });

  it("collects a backup once its whole hour is more than ten weeks old, never a live file", async () => {
    await receive(H1, [reading(meterA, 1)]);
    await receive(H2, [reading(meterA, 2)]);
    await files.markBackup(H1);
    const h1End = hourStartMs(H1) + HOUR_MS;
    assert.deepEqual(await files.collectGarbage(h1End + USAGE_RETENTION_MS), [], "exactly ten weeks: kept");
    assert.deepEqual(await files.collectGarbage(h1End + USAGE_RETENTION_MS + 1), [H1]);
    assert.deepEqual(await readdir(usageDir()), ["2026-11-22T14.jsonl"]);
    assert.deepEqual(files.list(H1, H2), [{ hour: H2, readings: 1, backup: false }]);
    assert.deepEqual(await files.collectGarbage(h1End + 10 * USAGE_RETENTION_MS), [], "a live file stays");
    assert.deepEqual((await files.read(H2))?.readings, [reading(meterA, 2)]);
  });
});
