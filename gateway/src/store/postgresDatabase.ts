import { Pool, type PoolClient, TypeOverrides } from "pg";

import { StoreError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import {
  type Database,
  INT8_OID,
  type Queryable,
  type QueryResult,
  type Row,
  toStoreError,
} from "./database.js";

export interface CreatePostgresDatabaseParameters {
  /** `postgres://user:password@host:port/database`; never logged. */
  url: string;
  logger: Logger;
  /** Most connections open at once. */
  maxConnections?: number;
}

/**
 * The production engine: a pool of connections to a PostgreSQL server. Checks one connection
 * before returning, so a wrong URL or an unreachable server fails at start, not at first use.
 */
export async function createPostgresDatabase({
  url,
  logger,
  maxConnections = 10,
}: CreatePostgresDatabaseParameters): Promise<Database> {
  // Per pool, not pg's global parsers: BIGINT as bigint, exactly as the embedded engine returns it.
  const types = new TypeOverrides();
  types.setTypeParser(INT8_OID, (text: string) => BigInt(text));
  const pool = new Pool({ connectionString: url, types, max: maxConnections });
  // An idle connection the server drops emits here; unhandled it would crash the process, and the
  // pool replaces the connection on next use anyway.
  pool.on("error", (error) => logger.warn({ err: error }, "idle database connection failed"));

  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => {});
    throw toStoreError(error);
  }

  return {
    engine: "postgres",
    ...wrap(pool),
    async transaction(work) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw toStoreError(error);
      }
      let broken: Error | undefined;
      try {
        await client.query("BEGIN").catch((error: unknown) => {
          throw toStoreError(error, "BEGIN");
        });
        const result = await work(wrap(client));
        const commit = await client.query("COMMIT").catch((error: unknown) => {
          throw toStoreError(error, "COMMIT");
        });
        // COMMIT of a transaction a swallowed error had aborted quietly rolls back instead.
        if (commit.command === "ROLLBACK") {
          throw new StoreError("transaction was aborted by an earlier failed statement and rolled back");
        }
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          // The connection is in an unknown state: drop it rather than hand it to the next user.
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

function wrap(target: Pool | PoolClient): Queryable {
  return {
    async query<R extends Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      try {
        const result = await target.query<R>(sql, params === undefined ? undefined : [...params]);
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      } catch (error) {
        throw toStoreError(error, sql);
      }
    },
    async exec(sql) {
      try {
        // Without parameters pg uses the simple protocol, which accepts several statements.
        await target.query(sql);
      } catch (error) {
        throw toStoreError(error, sql);
      }
    },
  };
}
