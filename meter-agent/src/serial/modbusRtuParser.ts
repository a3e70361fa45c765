import { Transform, type TransformCallback, type TransformOptions } from "node:stream";

import {
  ModbusCrcError,
  ModbusExceptionError,
  ModbusGarbageError,
  ModbusUnexpectedFunctionError,
  modbusExceptionCodes,
} from "./errors.js";
import { hasValidModbusCrc } from "./modbusCrc.js";
import { READ_INPUT_REGISTERS } from "./modbusFrames.js";

/** An intact response to "read input registers": the register bytes, big-endian as sent. */
export interface ModbusRegistersFrame {
  readonly slave: number;
  readonly functionCode: typeof READ_INPUT_REGISTERS;
  readonly data: Buffer;
}

/** What the parser emits: an intact 0x04 response, or a typed error in its place — never a value. */
export type ModbusRtuParserOutput =
  | ModbusRegistersFrame
  | ModbusCrcError
  | ModbusExceptionError
  | ModbusUnexpectedFunctionError
  | ModbusGarbageError;

/** Slave addresses a response can carry: 0 is broadcast, which is never answered; 248-255 reserved. */
const isSlaveAddress = (b: number) => b >= 1 && b <= 247;
/** Byte-count-framed functions (read coils, discrete inputs, holding and input registers). */
const BYTE_COUNT_FUNCTIONS = new Set([0x01, 0x02, 0x03, 0x04]);
/** Functions whose response is always 8 bytes (write single/multiple coils and registers). */
const FIXED_8_FUNCTIONS = new Set([0x05, 0x06, 0x0f, 0x10]);
const KNOWN_FUNCTIONS = new Set([...BYTE_COUNT_FUNCTIONS, ...FIXED_8_FUNCTIONS]);

type Candidate = { kind: "need" } | { kind: "garbage" } | { kind: "frame"; length: number };
const NEED: Candidate = { kind: "need" };
const GARBAGE: Candidate = { kind: "garbage" };

/**
 * Length of the response frame that would start at `pos`, read from its header alone.
 * Only headers of responses we can frame count; anything else is one byte of garbage. Decisions use
 * the bytes, never how they were chunked, so splitting a stream anywhere gives the same output.
 */
function candidateAt(buf: Buffer, pos: number): Candidate {
  const avail = buf.length - pos;
  if (avail < 1) return NEED;
  if (!isSlaveAddress(buf[pos]!)) return GARBAGE;
  if (avail < 2) return NEED;
  const fn = buf[pos + 1]!;
  if (fn & 0x80) {
    if (!KNOWN_FUNCTIONS.has(fn & 0x7f)) return GARBAGE;
    if (avail < 3) return NEED;
    return modbusExceptionCodes.has(buf[pos + 2]!) ? { kind: "frame", length: 5 } : GARBAGE;
  }
  if (FIXED_8_FUNCTIONS.has(fn)) return { kind: "frame", length: 8 };
  if (!BYTE_COUNT_FUNCTIONS.has(fn)) return GARBAGE;
  if (avail < 3) return NEED;
  const byteCount = buf[pos + 2]!;
  // At most 125 registers or 2,000 coils fit a response; register data comes in whole registers.
  const registers = fn === 0x03 || fn === 0x04;
  if (byteCount === 0 || byteCount > 250 || (registers && byteCount % 2 !== 0)) return GARBAGE;
  return { kind: "frame", length: 3 + byteCount + 2 };
}

function decode(frame: Buffer): ModbusRtuParserOutput {
  const slave = frame[0]!;
  const fn = frame[1]!;
  if (fn & 0x80) return new ModbusExceptionError(slave, fn & 0x7f, frame[2]!);
  if (fn !== READ_INPUT_REGISTERS)
    return new ModbusUnexpectedFunctionError(slave, fn, Uint8Array.from(frame));
  return {
    slave,
    functionCode: READ_INPUT_REGISTERS,
    data: Buffer.from(frame.subarray(3, frame.length - 2)),
  };
}

/**
 * Modbus RTU response framing as a stream transform: bytes in, frames (objects) out.
 *
 * RTU marks frame ends by 3.5 characters of silence, which a pseudo-terminal or a USB adapter's
 * buffering does not preserve, so frames are cut by the lengths their headers announce, and the CRC
 * decides. Complete frames are emitted, a truncated frame waits for the rest, and bytes that start
 * no plausible frame are skipped (reported once as a `ModbusGarbageError` before the next output).
 * A frame whose CRC fails is reported as one `ModbusCrcError` and the search resumes one byte after
 * its start, so a real frame hidden behind a false header is still found; the rest of the failed
 * span is not reported again. Without timing, noise can look like a header, so a CRC error means
 * "a plausible frame failed its check": an intact frame right after it may still be the answer.
 * Every decision depends on the bytes alone, never on how they were chunked.
 */
export class ModbusRtuParser extends Transform {
  #buffer: Buffer = Buffer.alloc(0);
  #garbage: number[] = [];
  /** Bytes still to come of a frame whose CRC failed: already reported, so not garbage again. */
  #failedSpan = 0;

  constructor(options: Omit<TransformOptions, "readableObjectMode"> = {}) {
    super({ ...options, readableObjectMode: true });
  }

  /** Forget buffered bytes, e.g. before a retry, so a stale half frame cannot swallow the new one. */
  reset(): void {
    this.#buffer = Buffer.alloc(0);
    this.#garbage = [];
    this.#failedSpan = 0;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const buf = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let pos = 0;
    for (;;) {
      const candidate = candidateAt(buf, pos);
      if (candidate.kind === "need") break;
      if (candidate.kind === "frame") {
        if (buf.length - pos < candidate.length) break;
        const frame = buf.subarray(pos, pos + candidate.length);
        if (hasValidModbusCrc(frame)) {
          this.#emit(decode(frame));
          pos += candidate.length;
          this.#failedSpan = 0;
          continue;
        }
        if (this.#failedSpan === 0) {
          this.#emit(new ModbusCrcError(Uint8Array.from(frame)));
          this.#failedSpan = candidate.length;
        }
      }
      this.#skip(buf[pos]!);
      pos++;
    }
    // Copy so the remainder does not pin the whole chunk it came in.
    this.#buffer = Buffer.from(buf.subarray(pos));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    for (const b of this.#buffer) this.#skip(b);
    this.#buffer = Buffer.alloc(0);
    this.#flushGarbage();
    callback();
  }

  #skip(byte: number): void {
    if (this.#failedSpan > 0) this.#failedSpan--;
    else this.#garbage.push(byte);
  }

  #emit(output: ModbusRtuParserOutput): void {
    this.#flushGarbage();
    this.push(output);
  }

  #flushGarbage(): void {
    if (this.#garbage.length === 0) return;
    this.push(new ModbusGarbageError(Uint8Array.from(this.#garbage)));
    this.#garbage = [];
  }
}
