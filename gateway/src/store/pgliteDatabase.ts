import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

import { PGlite, type Transaction } from "@electric-sql/pglite";

import { StoreError } from "../common/errors.js";
import {
  type Database,
  INT8_OID,
  type Queryable,
  type QueryResult,
  type Row,
  toStoreError,
} from "./database.js";

export interface CreatePgliteDatabaseParameters {
  /** Directory holding the database files; omitted, the database lives in memory only. */
  dataDir?: string;
}

/**
 * The embedded engine: PostgreSQL compiled to WebAssembly, in this process, no server needed.
 * One process at a time may open a data directory, which a lock file beside it enforces: PGlite
 * itself would let a second opener in and the two would corrupt each other's writes.
 */
export async function createPgliteDatabase({
  dataDir,
}: CreatePgliteDatabaseParameters = {}): Promise<Database> {
  let unlock = () => {};
  if (dataDir !== undefined) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      // PGlite reads BIGINT into a JS number, which silently rounds past 2^53.
      parsers: { [INT8_OID]: (text: string) => BigInt(text) },
    });
  } catch (error) {
    unlock();
    throw toStoreError(error);
  }
  return {
    engine: "pglite",
    ...wrap(pglite),
    async transaction(work) {
      // Errors of `work` reach the caller unchanged; only BEGIN/COMMIT failures need wrapping.
      let thrown: { error: unknown } | undefined;
      try {
        return await pglite.transaction(async (tx) => {
          try {
            return await work(wrap(tx));
          } catch (error) {
            thrown = { error };
            throw error;
          }
        });
      } catch (error) {
        throw thrown !== undefined && thrown.error === error ? error : toStoreError(error);
      }
    },
    async close() {
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<R extends Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      try {
        const result = await target.query<R>(sql, params === undefined ? undefined : [...params]);
        return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
      } catch (error) {
        throw toStoreError(error, sql);
      }
    },
    async exec(sql) {
      try {
        await target.exec(sql);
      } catch (error) {
        throw toStoreError(error, sql);
      }
    },
  };
}

/** Takes `<dataDir>.lock` for this process, replacing a lock whose process has died. */
function lockDataDir(dataDir: string): () => void {
  const path = `${resolve(dataDir)}.lock`;
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw toStoreError(error);
    }
    const holder = Number.parseInt(readFileSync(path, "utf8"), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new StoreError(`embedded database ${dataDir} is already open in process ${holder}`, {
        details: { lockFile: path, pid: holder },
      });
    }
    // Left by a process that crashed: no one holds the directory any more.
    rmSync(path, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
