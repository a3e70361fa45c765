import { AgentError } from "../common/agentError.js";

/** The BAL's errors (see AgentError for what every error carries). */
export class BalError extends AgentError {
  override readonly name: string = "BalError";
}

/** A requested current lies outside what the battery can do now; nothing was changed. */
export class BatteryRangeError extends BalError {
  override readonly name = "BatteryRangeError";

  constructor(battery: string, requested: number, limit: number, direction: "charge" | "discharge") {
    super(
      Number.isFinite(requested)
        ? `battery "${battery}": cannot ${direction} at ${Math.abs(requested)} A, the limit is ${limit} A`
        : `battery "${battery}": requested current ${requested} is not a number of amperes`,
      { details: { battery, requested, limit, direction } },
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
