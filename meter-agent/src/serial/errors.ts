import { AgentError, type ErrorDetails } from "../common/agentError.js";

/**
 * The serial layer's errors: a small hierarchy whose `retryable` tells the driver whether asking the
 * same question again can help. Each carries a short message, structured `details` and the `cause`.
 */
export type SerialErrorDetails = ErrorDetails;

/** Subclasses fix `retryable` by what went wrong, so it is declared, not passed in. */
export abstract class SerialError extends AgentError {
  override readonly name: string = "SerialError";
  abstract override readonly retryable: boolean;

  constructor(message: string, options: { details?: SerialErrorDetails; cause?: unknown } = {}) {
    super(message, options);
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A whole frame arrived but its CRC does not match: a line error, so asking again can help. */
export class ModbusCrcError extends SerialError {
  override readonly name = "ModbusCrcError";
  readonly retryable = true;
  constructor(readonly frame: Uint8Array) {
    super(`Modbus frame failed its CRC check (${frame.length} bytes)`, { details: { frame: hex(frame) } });
  }
}

/** Bytes that start no plausible frame, skipped while resynchronising. */
export class ModbusGarbageError extends SerialError {
  override readonly name = "ModbusGarbageError";
  readonly retryable = true;
  constructor(readonly bytes: Uint8Array) {
    super(`skipped ${bytes.length} byte(s) that start no Modbus frame`, { details: { bytes: hex(bytes) } });
  }
}

/** An intact response to a function this side never asks (only 0x04 is), so it is not ours. */
export class ModbusUnexpectedFunctionError extends SerialError {
  override readonly name = "ModbusUnexpectedFunctionError";
  readonly retryable = true;
  constructor(
    readonly slave: number,
    readonly functionCode: number,
    readonly frame: Uint8Array,
  ) {
    super(`unexpected Modbus response to function 0x${functionCode.toString(16).padStart(2, "0")}`, {
      details: { slave, functionCode, frame: hex(frame) },
    });
  }
}

const exceptionNames: Readonly<Record<number, string>> = {
  0x01: "illegal function",
  0x02: "illegal data address",
  0x03: "illegal data value",
  0x04: "slave device failure",
  0x05: "acknowledge",
  0x06: "slave device busy",
  0x08: "memory parity error",
  0x0a: "gateway path unavailable",
  0x0b: "gateway target device failed to respond",
};

/** Codes a Modbus exception response may carry. */
export const modbusExceptionCodes: ReadonlySet<number> = new Set(Object.keys(exceptionNames).map(Number));

/** The device answered with a Modbus exception: a definite "no", except for a busy device. */
export class ModbusExceptionError extends SerialError {
  override readonly name = "ModbusExceptionError";
  readonly retryable: boolean;
  constructor(
    readonly slave: number,
    readonly functionCode: number,
    readonly exceptionCode: number,
  ) {
    const label = exceptionNames[exceptionCode] ?? "unknown exception";
    super(`Modbus exception 0x${exceptionCode.toString(16).padStart(2, "0")} (${label})`, {
      details: { slave, functionCode, exceptionCode },
    });
    this.retryable = exceptionCode === 0x05 || exceptionCode === 0x06;
  }
}

/** No complete answer within the timeout: worded alike for every protocol, which names its own. */
export abstract class SerialTimeoutError extends SerialError {
  readonly retryable = true;
  constructor(timeoutMs: number, garbageBytes: number) {
    super(
      `no response within ${timeoutMs} ms` +
        (garbageBytes > 0 ? ` (${garbageBytes} garbage bytes seen)` : ""),
      { details: { timeoutMs, garbageBytes } },
    );
  }
}

/** No complete Modbus answer within the timeout. */
export class ModbusTimeoutError extends SerialTimeoutError {
  override readonly name = "ModbusTimeoutError";
}

/** An intact 0x04 response of the wrong size: an answer to some other question. */
export class ModbusResponseMismatchError extends SerialError {
  override readonly name = "ModbusResponseMismatchError";
  readonly retryable = true;
  constructor(expectedBytes: number, actualBytes: number) {
    super(`response carries ${actualBytes} data bytes, expected ${expectedBytes}`, {
      details: { expectedBytes, actualBytes },
    });
  }
}

/** A read that failed for good: retries exhausted or a definite refusal. Carries where and what. */
export class MeterReadError extends SerialError {
  override readonly name = "MeterReadError";
  readonly retryable = false;
}

/** The meter answered intact frames with values that cannot be true; nothing is returned. */
export class MeterValueError extends SerialError {
  override readonly name = "MeterValueError";
  readonly retryable = false;
}
