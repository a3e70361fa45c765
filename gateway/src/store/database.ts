import { StoreError } from "../common/errors.js";

/** A row as the drivers return it: column name to value (see `Database` for the value types). */
export type Row = Record<string, unknown>;

export interface QueryResult<R extends Row = Row> {
  rows: R[];
  /** Rows inserted, updated or deleted by the statement; 0 for other statements. */
  rowCount: number;
}

/** What can run statements: the database itself, or one transaction. */
export interface Queryable {
  /** One statement with `$1`, `$2`, … parameters; bigint parameters are sent exactly. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The gateway's one view of its relational store, the same for embedded PGlite and a PostgreSQL
 * server: both speak PostgreSQL, so the schema and every statement are written once.
 *
 * Values come back alike from both engines: BIGINT as `bigint` (block numbers beyond 2^53 stay
 * exact), NUMERIC as a decimal string (uint64 and token amounts; convert with `BigInt`), JSONB as
 * parsed JSON, TIMESTAMPTZ as `Date`. Errors are `StoreError`s carrying the SQLSTATE.
 */
export interface Database extends Queryable {
  readonly engine: "pglite" | "postgres";
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (the
   * error is rethrown). Statements must go through the given `tx`, not the database; transactions
   * do not nest.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Waits for running statements, then releases the engine or the connections. */
  close(): Promise<void>;
}

/** PostgreSQL type OIDs whose text form both engines must parse the same way. */
export const INT8_OID = 20;

/** Turns a driver error into a StoreError, keeping the SQLSTATE and constraint for callers. */
export function toStoreError(error: unknown, sql?: string): StoreError {
  if (error instanceof StoreError) return error;
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    constraint?: unknown;
    message?: unknown;
  };
  const message = typeof fields.message === "string" ? fields.message : String(error);
  const code = typeof fields.code === "string" ? fields.code : undefined;
  const details: Record<string, unknown> = {};
  if (typeof fields.constraint === "string") details.constraint = fields.constraint;
  // The statement's first line names it in logs without dumping a whole migration.
  if (sql !== undefined) details.statement = sql.trim().split("\n", 1)[0];
  const sqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  // Socket-level failures carry a Node error code instead of a SQLSTATE; they are transient too.
  const networkFailure = code !== undefined && NETWORK_ERRORS.has(code);
  return new StoreError(message, {
    code: sqlState,
    details: networkFailure ? { ...details, errno: code } : details,
    cause: error,
    ...(networkFailure ? { retryable: true } : {}),
  });
}

const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);

/** The SQLSTATE of a failed statement, for callers that react to one (e.g. `23505` duplicate). */
export function sqlStateOf(error: unknown): string | undefined {
  return error instanceof StoreError ? error.code : undefined;
}
