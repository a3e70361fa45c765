import { SerialError, SerialTimeoutError } from "./errors.js";

/**
 * Errors of the JBD BMS UART stack, in the serial layer's hierarchy: `retryable` tells the driver
 * whether asking again can help. Framing errors are emitted by `JbdFrameParser` in place of values.
 */
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A whole frame (0xDD … 0x77) arrived but its checksum does not match: a line error. */
export class JbdChecksumError extends SerialError {
  override readonly name = "JbdChecksumError";
  readonly retryable = true;
  constructor(readonly frame: Uint8Array) {
    super(`JBD frame failed its checksum (${frame.length} bytes)`, { details: { frame: hex(frame) } });
  }
}

/** Bytes that start no plausible JBD frame, skipped while resynchronising. */
export class JbdGarbageError extends SerialError {
  override readonly name = "JbdGarbageError";
  readonly retryable = true;
  constructor(readonly bytes: Uint8Array) {
    super(`skipped ${bytes.length} byte(s) that start no JBD frame`, { details: { bytes: hex(bytes) } });
  }
}

/** The stream ended inside a frame: the start of an answer that never completed. */
export class JbdTruncatedError extends SerialError {
  override readonly name = "JbdTruncatedError";
  readonly retryable = true;
  constructor(
    readonly bytes: Uint8Array,
    readonly expectedLength: number | undefined,
  ) {
    super(
      `JBD frame truncated after ${bytes.length} byte(s)` +
        (expectedLength === undefined ? "" : ` of ${expectedLength}`),
      { details: { bytes: hex(bytes), expectedLength } },
    );
  }
}

/** No complete JBD answer within the timeout. */
export class JbdTimeoutError extends SerialTimeoutError {
  override readonly name = "JbdTimeoutError";
}

/** The BMS answered with status 0x80: it refused the request (unknown register, bad write, …). */
export class JbdStatusError extends SerialError {
  override readonly name = "JbdStatusError";
  readonly retryable = false;
  constructor(
    readonly register: number,
    readonly status: number,
  ) {
    super(
      `JBD BMS refused register 0x${register.toString(16).padStart(2, "0")} ` +
        `(status 0x${status.toString(16).padStart(2, "0")})`,
      { details: { register, status } },
    );
  }
}

/** An intact answer that does not fit the question (other register, wrong length). */
export class JbdResponseMismatchError extends SerialError {
  override readonly name = "JbdResponseMismatchError";
  readonly retryable = true;
}

/** A request failed for good: retries exhausted or a definite refusal. Carries where and what. */
export class JbdRequestError extends SerialError {
  override readonly name = "JbdRequestError";
  readonly retryable = false;
}

/** The BMS answered intact frames with values that cannot be true; nothing is returned. */
export class JbdValueError extends SerialError {
  override readonly name = "JbdValueError";
  readonly retryable = false;
}
