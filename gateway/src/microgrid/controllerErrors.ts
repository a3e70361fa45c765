import { GatewayError } from "../common/errors.js";

/** A command to a meter agent that did not do what it should; says which meter and command. */
export class MeterRequestError extends GatewayError {
  override readonly name: string = "MeterRequestError";

  constructor(
    readonly meter: string,
    readonly command: string,
    message: string,
    options: { retryable: boolean; details?: Record<string, unknown>; cause?: unknown },
  ) {
    super(`meter ${meter}, ${command}: ${message}`, options);
  }
}

/** No answer, a timeout, a 5xx or an answer that is not JSON: the agent may well take it later. */
export class MeterUnreachableError extends MeterRequestError {
  override readonly name = "MeterUnreachableError";

  constructor(meter: string, command: string, message: string, cause?: unknown) {
    super(meter, command, message, { retryable: true, cause });
  }
}

/** The agent refused the command (4xx): sent again as it is, it would be refused again. */
export class MeterRefusedError extends MeterRequestError {
  override readonly name = "MeterRefusedError";

  constructor(
    meter: string,
    command: string,
    readonly status: number,
    /** The agent's error name, e.g. `CommandUnauthorizedError`. */
    readonly agentError: string,
    message: string,
    details: Record<string, unknown>,
  ) {
    super(meter, command, `refused with ${status} ${agentError}: ${message}`, { retryable: false, details });
  }
}

/**
 * The agent accepted the command but answered with something it should never send (a reading of
 * another meter, sequences out of order): nothing of it is stored, and the request is tried again.
 */
export class MeterProtocolError extends MeterRequestError {
  override readonly name = "MeterProtocolError";

  constructor(meter: string, command: string, message: string, details: Record<string, unknown> = {}) {
    super(meter, command, message, { retryable: true, details });
  }
}

/** A usage file cannot be written or read as asked; the message names the hour and the file. */
export class UsageFileError extends GatewayError {
  override readonly name = "UsageFileError";
}
