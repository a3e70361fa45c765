import { AgentError } from "../common/agentError.js";

/** The BAL's errors (see AgentError for what every error carries). */
export class BalError extends AgentError {
  override readonly name: string = "BalError";
}

/** A requested current lies outside what the battery can do now; nothing was changed. */
export class BatteryRangeError extends BalError {
  override readonly name = "BatteryRangeError";

  constructor(
    battery: string,
    requested: number,
    limit: number,
    direction: "charge" | "discharge",
    /** Where the refusal came from when it is raised again elsewhere (a networked battery). */
    origin: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(
      Number.isFinite(requested)
        ? `battery "${battery}": cannot ${direction} at ${Math.abs(requested)} A, the limit is ${limit} A`
        : `battery "${battery}": requested current ${requested} is not a number of amperes`,
      { details: { ...origin.details, battery, requested, limit, direction }, cause: origin.cause },
    );
  }
}

/** A device or constituent battery could not be read or commanded; trying again may help. */
export class BatteryUnavailableError extends BalError {
  override readonly name = "BatteryUnavailableError";

  constructor(battery: string, action: string, cause: unknown, details: Record<string, unknown> = {}) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`battery "${battery}": ${action} failed: ${reason}`, {
      retryable: true,
      cause,
      details: { battery, action, ...details },
    });
  }
}

/** A topology (from a config file or the make* functions) is invalid; lists every problem at once. */
export class TopologyConfigError extends BalError {
  override readonly name = "TopologyConfigError";
  readonly problems: readonly string[];

  constructor(problems: string[], cause?: unknown) {
    super(`invalid battery topology:\n  ${problems.join("\n  ")}`, { details: { problems }, cause });
    this.problems = problems;
  }
}

/**
 * A request to a battery server was not authenticated: unknown key, bad signature, stale
 * timestamp, replayed nonce, or a battery outside the key's scope; or the server's answer did not
 * carry the shared key's signature. Sending the same thing again will not help.
 */
export class BatteryAuthError extends BalError {
  override readonly name = "BatteryAuthError";

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, { details });
  }
}

/**
 * A battery server and its client disagree on the protocol: a malformed request or answer, an
 * unknown route or battery name. A configuration or version mismatch, not a passing fault.
 */
export class BatteryProtocolError extends BalError {
  override readonly name = "BatteryProtocolError";

  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { details, cause });
  }
}
