import { Transform, type TransformCallback, type TransformOptions } from "node:stream";

import { JbdChecksumError, JbdGarbageError, JbdTruncatedError } from "./jbdErrors.js";
import {
  JBD_END,
  JBD_OVERHEAD,
  JBD_READ,
  JBD_START,
  JBD_STATUS_ERROR,
  JBD_STATUS_OK,
  JBD_WRITE,
  hasValidJbdChecksum,
} from "./jbdFrames.js";

/** An intact answer from the BMS. */
export interface JbdResponseFrame {
  readonly register: number;
  /** 0x00 ok, 0x80 refused. */
  readonly status: number;
  readonly data: Buffer;
}

/** An intact request to the BMS (what the simulator reads). */
export interface JbdRequestFrame {
  readonly mode: "read" | "write";
  readonly register: number;
  readonly data: Buffer;
}

type JbdFramingError = JbdChecksumError | JbdGarbageError | JbdTruncatedError;
export type JbdResponseParserOutput = JbdResponseFrame | JbdFramingError;
export type JbdRequestParserOutput = JbdRequestFrame | JbdFramingError;

type Candidate = { kind: "need"; length?: number } | { kind: "garbage" } | { kind: "frame"; length: number };

/**
 * JBD framing as a stream transform: bytes in, frames (objects) out, typed errors in place of
 * anything that is not an intact frame — never a value.
 *
 * A frame is 0xDD, two header bytes, a length, the data, a 2-byte checksum and 0x77. Bytes before
 * a plausible start are skipped and reported once as a `JbdGarbageError` before the next output; a
 * candidate whose end byte is not 0x77 was a false start and its 0xDD is garbage too. A frame that
 * ends right but fails its checksum is one `JbdChecksumError`, and the search resumes one byte after
 * its start, so an intact frame hidden behind a false header is still found (the rest of the failed
 * span is not reported again). A frame cut off by the end of the stream is a `JbdTruncatedError`.
 * Every decision depends on the bytes alone, never on how they were chunked.
 */
abstract class JbdParser<Frame> extends Transform {
  #buffer: Buffer = Buffer.alloc(0);
  #garbage: number[] = [];
  #failedSpan = 0;

  constructor(options: Omit<TransformOptions, "readableObjectMode"> = {}) {
    super({ ...options, readableObjectMode: true });
  }

  /** Whether header bytes b1 and b2 can begin a frame in this direction. */
  protected abstract plausible(b1: number, b2: number): boolean;
  protected abstract decode(frame: Buffer): Frame;

  /** Bytes held back: the start of an incomplete frame, and garbage not yet reported. */
  get buffered(): number {
    return this.#buffer.length + this.#garbage.length;
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
      const candidate = this.#candidateAt(buf, pos);
      if (candidate.kind === "need") break;
      if (candidate.kind === "frame") {
        const frame = buf.subarray(pos, pos + candidate.length);
        if (hasValidJbdChecksum(frame)) {
          this.#emit(this.decode(Buffer.from(frame)));
          pos += candidate.length;
          this.#failedSpan = 0;
          continue;
        }
        if (this.#failedSpan === 0) {
          this.#emit(new JbdChecksumError(Uint8Array.from(frame)));
          this.#failedSpan = candidate.length;
        }
      }
      this.#skip(buf[pos]!);
      pos++;
    }
    this.#buffer = Buffer.from(buf.subarray(pos));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    if (rest.length > 0) {
      const candidate = this.#candidateAt(rest, 0);
      if (candidate.kind === "need" && this.#failedSpan === 0) {
        this.#emit(new JbdTruncatedError(Uint8Array.from(rest), candidate.length));
      } else {
        for (const b of rest) this.#skip(b);
      }
    }
    this.#flushGarbage();
    callback();
  }

  #candidateAt(buf: Buffer, pos: number): Candidate {
    const avail = buf.length - pos;
    if (avail < 1) return { kind: "need" };
    if (buf[pos] !== JBD_START) return { kind: "garbage" };
    if (avail < 3) return { kind: "need" };
    if (!this.plausible(buf[pos + 1]!, buf[pos + 2]!)) return { kind: "garbage" };
    if (avail < 4) return { kind: "need" };
    const length = JBD_OVERHEAD + buf[pos + 3]!;
    if (avail < length) return { kind: "need", length };
    return buf[pos + length - 1] === JBD_END ? { kind: "frame", length } : { kind: "garbage" };
  }

  #skip(byte: number): void {
    if (this.#failedSpan > 0) this.#failedSpan--;
    else this.#garbage.push(byte);
  }

  #emit(output: Frame | JbdFramingError): void {
    this.#flushGarbage();
    this.push(output);
  }

  #flushGarbage(): void {
    if (this.#garbage.length === 0) return;
    this.push(new JbdGarbageError(Uint8Array.from(this.#garbage)));
    this.#garbage = [];
  }
}

const dataOf = (frame: Buffer) => frame.subarray(4, frame.length - 3);

/** Host side: parses what the BMS answers (register echo, status 0x00 or 0x80). */
export class JbdResponseParser extends JbdParser<JbdResponseFrame> {
  protected plausible(_register: number, status: number): boolean {
    return status === JBD_STATUS_OK || status === JBD_STATUS_ERROR;
  }
  protected decode(frame: Buffer): JbdResponseFrame {
    return { register: frame[1]!, status: frame[2]!, data: dataOf(frame) };
  }
}

/** Device side: parses requests (0xA5 read, 0x5A write). */
export class JbdRequestParser extends JbdParser<JbdRequestFrame> {
  protected plausible(mode: number): boolean {
    return mode === JBD_READ || mode === JBD_WRITE;
  }
  protected decode(frame: Buffer): JbdRequestFrame {
    return { mode: frame[1] === JBD_READ ? "read" : "write", register: frame[2]!, data: dataOf(frame) };
  }
}
