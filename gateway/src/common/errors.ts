/**
 * The gateway's error hierarchy: a short message for people, structured details for logs, the
 * underlying cause, and whether trying again can help.
 */
export class GatewayError extends Error {
  override readonly name: string = "GatewayError";
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** The configuration is invalid; lists every problem at once so the operator fixes them in one go. */
export class ConfigError extends GatewayError {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`, { details: { problems } });
    this.problems = problems;
  }
}

/**
 * A database operation failed. `code` is the SQLSTATE when the server gave one; failures that a
 * fresh attempt can clear (lost connections, serialization conflicts, deadlocks) are retryable.
 */
export class StoreError extends GatewayError {
  override readonly name: string = "StoreError";
  readonly code: string | undefined;

  constructor(
    message: string,
    options: { code?: string; details?: Record<string, unknown>; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, {
      cause: options.cause,
      details: { ...options.details, ...(options.code === undefined ? {} : { code: options.code }) },
      retryable: options.retryable ?? isTransientSqlState(options.code),
    });
    this.code = options.code;
  }
}

/** The database's schema does not match this code's migrations; starting would risk the data. */
export class SchemaMismatchError extends StoreError {
  override readonly name = "SchemaMismatchError";
}

// SQLSTATE classes 08 (connection), 40 (serialization failure, deadlock), 53 (out of resources)
// and 57P01-03 (server shutting down or starting) describe the moment, not the statement.
function isTransientSqlState(code: string | undefined): boolean {
  if (code === undefined) return false;
  return /^(08|40|53)/.test(code) || code === "57P01" || code === "57P02" || code === "57P03";
}
