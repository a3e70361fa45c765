import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";

import type { Logger } from "pino";

import type { Clock } from "@gridmesh/contracts";

import { HOUR_MS, hourOf, hourStartMs, type UsageHourSummary } from "./controllerApi.js";
import { inTransaction } from "./controllerDatabase.js";
import { UsageFileError } from "./controllerErrors.js";

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Backups are kept ten weeks (seed 000 §2.1), counted from the end of their hour. */
export const USAGE_RETENTION_MS = 10 * 7 * 24 * HOUR_MS;

const LIVE = ".jsonl";
const BACKUP = ".jsonl.gz";
const TEMP = ".tmp";

export interface UsageFilesOptions {
  dir: string;
  db: DatabaseSync;
  /** Readings go into the hour of this clock at the moment they are written. */
  clock: Clock;
  logger: Logger;
}

export type BackupOutcome = "converted" | "already" | "absent";

/**
 * Usage_Data (seed 000 Table 1): one file per hour of receive time holding the readings exactly as
 * the meters sent them, one JSON object per line. `<hour>.jsonl` is live (the utility has not
 * acknowledged it); `<hour>.jsonl.gz` is its backup, the "is_backup bit" made durable by the name.
 *
 * Every append is fsynced before it returns, so a reading acknowledged to its meter is on disk.
 * Turning a file into its backup writes the compressed copy beside it, fsyncs it, renames it into
 * place and only then removes the original: whatever the moment of a crash, one complete copy
 * remains, and `open` finishes or undoes the half-done step. All changes run one at a time.
 */
export class UsageFiles {
  readonly #dir: string;
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #recovered: Map<string, bigint>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: UsageFilesOptions, recovered: Map<string, bigint>) {
    this.#dir = options.dir;
    this.#db = options.db;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#recovered = recovered;
  }

  /** Opens the folder (creating it), repairs what a crash left, and rebuilds the index from the files. */
  static async open(options: UsageFilesOptions): Promise<UsageFiles> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const recovered = await recover(options);
    return new UsageFiles(options, recovered);
  }

  /**
   * The highest sequence per meter (lower-case address) found in live files at open: readings
   * written just before a crash, which the controller database may not have recorded yet.
   */
  get recoveredSequences(): ReadonlyMap<string, bigint> {
    return this.#recovered;
  }

  /**
   * Appends `readings` to the live file of the hour it is now and fsyncs it; returns that hour.
   * The hour is taken when the write runs, after any read queued before it: the utility reads an
   * hour only once it has ended, so no reading can land in an hour after the utility read it.
   */
  append(readings: readonly unknown[]): Promise<string> {
    return this.#serial(async () => {
      const hour = hourOf(this.#clock.now());
      if (readings.length === 0) return hour;
      const existing = this.summary(hour);
      if (existing?.backup === true) {
        throw new UsageFileError(
          `hour ${hour} is already acknowledged by the utility; readings received now cannot go into it (did the clock go back?)`,
          { details: { hour } },
        );
      }
      const path = this.#path(hour, LIVE);
      const text = readings.map((r) => `${JSON.stringify(r)}\n`).join("");
      const file = await open(path, "a", 0o600);
      try {
        const { size } = await file.stat();
        try {
          await file.write(text);
          await file.sync();
        } catch (cause) {
          // Without this a retry would write the lines that did land a second time.
          await file.truncate(size).catch(() => undefined);
          throw new UsageFileError(`cannot append to ${path}: ${(cause as Error).message}`, { cause });
        }
      } finally {
        await file.close();
      }
      if (existing === undefined) await syncDir(this.#dir);
      this.#db
        .prepare(
          `INSERT INTO usage_hours (hour, readings) VALUES (?, ?)
           ON CONFLICT (hour) DO UPDATE SET readings = readings + excluded.readings`,
        )
        .run(hour, readings.length);
      return hour;
    });
  }

  /** The readings of `hour` as received, or undefined when no file holds it. */
  read(hour: string): Promise<{ backup: boolean; readings: unknown[] } | undefined> {
    return this.#serial(async () => {
      const summary = this.summary(hour);
      if (summary === undefined) return undefined;
      const text = summary.backup
        ? (await gunzip(await readFile(this.#path(hour, BACKUP)))).toString("utf8")
        : await readFile(this.#path(hour, LIVE), "utf8");
      return { backup: summary.backup, readings: parseLines(text, hour) };
    });
  }

  summary(hour: string): UsageHourSummary | undefined {
    const row = this.#db
      .prepare("SELECT hour, readings, backup FROM usage_hours WHERE hour = ?")
      .get(hour) as HourRow | undefined;
    return row === undefined ? undefined : toSummary(row);
  }

  /** Every hour held from `fromHour` to `toHour`, both included, oldest first. */
  list(fromHour: string, toHour: string): UsageHourSummary[] {
    const rows = this.#db
      .prepare("SELECT hour, readings, backup FROM usage_hours WHERE hour BETWEEN ? AND ? ORDER BY hour")
      .all(fromHour, toHour) as unknown as HourRow[];
    return rows.map(toSummary);
  }

  /** The utility holds `hour`: its file becomes a compressed backup (lossless, crash-safe). */
  markBackup(hour: string): Promise<BackupOutcome> {
    return this.#serial(async () => {
      const summary = this.summary(hour);
      if (summary === undefined) return "absent";
      if (summary.backup) return "already";
      const live = this.#path(hour, LIVE);
      const backup = this.#path(hour, BACKUP);
      const original = await readFile(live);
      const compressed = await gzip(original, { level: 6 });
      if (!(await gunzip(compressed)).equals(original))
        throw new UsageFileError(`compressing ${live} did not round-trip; the file stays as it is`);
      await writeDurably(backup + TEMP, compressed);
      await rename(backup + TEMP, backup);
      await syncDir(this.#dir);
      this.#db.prepare("UPDATE usage_hours SET backup = 1 WHERE hour = ?").run(hour);
      await rm(live);
      await syncDir(this.#dir);
      return "converted";
    });
  }

  /**
   * Deletes backups whose whole hour ended more than ten weeks before `nowMs`. A live file is never
   * collected, however old: the utility has not got its readings yet. Returns the hours removed.
   */
  collectGarbage(nowMs: number): Promise<string[]> {
    return this.#serial(async () => {
      const rows = this.#db
        .prepare("SELECT hour, readings, backup FROM usage_hours WHERE backup = 1 ORDER BY hour")
        .all() as unknown as HourRow[];
      const removed: string[] = [];
      for (const { hour } of rows) {
        if (nowMs - (hourStartMs(hour) + HOUR_MS) <= USAGE_RETENTION_MS) break;
        await rm(this.#path(hour, BACKUP), { force: true });
        this.#db.prepare("DELETE FROM usage_hours WHERE hour = ?").run(hour);
        removed.push(hour);
      }
      if (removed.length > 0) await syncDir(this.#dir);
      return removed;
    });
  }

  #path(hour: string, suffix: string): string {
    return join(this.#dir, fileBase(hour) + suffix);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch((error: unknown) => {
      this.#logger.debug({ err: error }, "usage file operation failed");
    });
    return run;
  }
}

interface HourRow {
  hour: string;
  readings: number;
  backup: number;
}

function toSummary(row: HourRow): UsageHourSummary {
  return { hour: row.hour, readings: Number(row.readings), backup: Number(row.backup) === 1 };
}

/** `2026-11-22T13:00:00Z` → `2026-11-22T13`: no colons, which some file systems refuse. */
function fileBase(hour: string): string {
  return hour.slice(0, 13);
}

function hourOfBase(base: string): string | undefined {
  return /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$/.test(base) ? `${base}:00:00Z` : undefined;
}

function parseLines(text: string, hour: string): unknown[] {
  const lines = text.split("\n");
  lines.pop(); // the text after the last newline: empty, since torn tails are cut at open
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new UsageFileError(`line ${i + 1} of hour ${hour}'s usage file is not JSON`, {
        details: { hour },
      });
    }
  });
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const file = await open(path, "w", 0o600);
  try {
    await file.write(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Makes creations, renames and removals in `dir` durable (the directory entry, not just the data). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Brings the folder back to a consistent state after any crash, and rebuilds the index:
 * - a `.tmp` file is a backup that was never renamed into place: its live file is intact, so it goes;
 * - a live file beside its backup means the crash came between the rename and the removal: the
 *   backup is complete (it was fsynced before the rename), so the live file goes, once the two are
 *   checked to hold the same bytes;
 * - a live file not ending in a newline was cut by a crash during an append whose readings were
 *   never acknowledged to the meter: the partial line goes, and the meter sends it again.
 */
async function recover({ dir, db, logger }: Omit<UsageFilesOptions, "clock">): Promise<Map<string, bigint>> {
  const names = await readdir(dir);
  const live = new Set<string>();
  const backups = new Set<string>();
  for (const name of names) {
    if (name.endsWith(TEMP)) {
      await rm(join(dir, name), { force: true });
      logger.warn({ file: name }, "removed an unfinished backup left by a crash");
      continue;
    }
    const hour = name.endsWith(BACKUP)
      ? hourOfBase(name.slice(0, -BACKUP.length))
      : name.endsWith(LIVE)
        ? hourOfBase(name.slice(0, -LIVE.length))
        : undefined;
    if (hour === undefined) continue;
    (name.endsWith(BACKUP) ? backups : live).add(hour);
  }

  for (const hour of live) {
    if (!backups.has(hour)) continue;
    const livePath = join(dir, fileBase(hour) + LIVE);
    const backupPath = join(dir, fileBase(hour) + BACKUP);
    const [original, restored] = await Promise.all([readFile(livePath), readFile(backupPath).then(gunzip)]);
    if (!restored.equals(original)) {
      throw new UsageFileError(
        `hour ${hour} has both a live file and a backup that differ; keeping both, move one away to start`,
        { details: { hour, live: livePath, backup: backupPath } },
      );
    }
    await rm(livePath);
    live.delete(hour);
    logger.warn({ hour }, "finished turning an acknowledged hour into its backup after a crash");
  }

  const sequences = new Map<string, bigint>();
  const counts = new Map<string, number>();
  for (const hour of live) {
    const path = join(dir, fileBase(hour) + LIVE);
    let text = await readFile(path, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    if (end < text.length) {
      const file = await open(path, "r+");
      try {
        await file.truncate(Buffer.byteLength(text.slice(0, end)));
        await file.sync();
      } finally {
        await file.close();
      }
      logger.warn({ hour, bytes: text.length - end }, "cut a reading torn by a crash from a usage file");
      text = text.slice(0, end);
    }
    const readings = parseLines(text, hour);
    counts.set(hour, readings.length);
    for (const r of readings) {
      const reading = (r as { reading?: { meter?: unknown; sequence?: unknown } }).reading;
      if (typeof reading?.meter !== "string" || typeof reading.sequence !== "string") continue;
      const meter = reading.meter.toLowerCase();
      const sequence = BigInt(reading.sequence);
      if (sequence > (sequences.get(meter) ?? 0n)) sequences.set(meter, sequence);
    }
  }

  const known = new Map(
    (db.prepare("SELECT hour, readings, backup FROM usage_hours").all() as unknown as HourRow[]).map((r) => [
      r.hour,
      Number(r.readings),
    ]),
  );
  for (const hour of backups) {
    if (known.has(hour)) continue;
    const text = (await gunzip(await readFile(join(dir, fileBase(hour) + BACKUP)))).toString("utf8");
    known.set(hour, parseLines(text, hour).length);
  }
  inTransaction(db, () => {
    db.exec("DELETE FROM usage_hours");
    const insert = db.prepare("INSERT INTO usage_hours (hour, readings, backup) VALUES (?, ?, ?)");
    for (const [hour, n] of counts) insert.run(hour, n, 0);
    for (const hour of backups) insert.run(hour, known.get(hour)!, 1);
  });
  await syncDir(dir);
  return sequences;
}
