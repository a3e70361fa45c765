/**
 * The root of the meter agent's errors: a short message for people, structured details for logs,
 * the underlying cause, and whether trying the same thing again can help. Each subsystem (serial
 * drivers, the BAL, …) derives its own small hierarchy from it.
 */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export class AgentError extends Error {
  override readonly name: string = "AgentError";
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(
    message: string,
    options: { retryable?: boolean; details?: ErrorDetails; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}
