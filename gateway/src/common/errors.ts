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
