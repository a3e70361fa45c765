import { AgentError, type ErrorDetails } from "../common/agentError.js";

/**
 * A controller command was refused before it changed anything. `status` is the HTTP status the
 * command server answers with; none of these is retryable as sent (a fresh, correctly signed
 * command is a different request).
 */
export abstract class CommandError extends AgentError {
  abstract readonly status: number;

  constructor(message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, { details, cause });
  }
}

/** The request is not a signed command in the wire form. */
export class CommandMalformedError extends CommandError {
  override readonly name = "CommandMalformedError";
  readonly status = 400;
}

/** The signature is invalid or not a configured controller's. */
export class CommandUnauthorizedError extends CommandError {
  override readonly name = "CommandUnauthorizedError";
  readonly status = 401;
}

/** Correctly signed, but for another meter: a controller's command cannot be redirected. */
export class CommandWrongMeterError extends CommandError {
  override readonly name = "CommandWrongMeterError";
  readonly status = 403;
}

/** The nonce is not above the last one accepted from this controller: a replay or a stale command. */
export class CommandReplayedError extends CommandError {
  override readonly name = "CommandReplayedError";
  readonly status = 409;
}

/** The command's expiry has passed. */
export class CommandExpiredError extends CommandError {
  override readonly name = "CommandExpiredError";
  readonly status = 410;
}

/** The parameters (or the expiry's distance) are well-formed JSON but not acceptable. */
export class CommandParamsError extends CommandError {
  override readonly name = "CommandParamsError";
  readonly status = 422;
}
