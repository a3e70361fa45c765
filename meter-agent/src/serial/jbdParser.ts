import { FramedParser, type FrameCandidate } from "./framedParser.js";
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

/**
 * JBD framing (see FramedParser): a frame is 0xDD, two header bytes, a length, the data, a 2-byte
 * checksum and 0x77. A candidate whose end byte is not 0x77 was a false start and its 0xDD is
 * garbage (`JbdGarbageError`); a frame that ends right but fails its checksum is a
 * `JbdChecksumError`; a frame cut off by the end of the stream is a `JbdTruncatedError`.
 */
abstract class JbdParser<Frame> extends FramedParser<Frame | JbdFramingError> {
  /** Whether header bytes b1 and b2 can begin a frame in this direction. */
  protected abstract plausible(b1: number, b2: number): boolean;

  protected candidateAt(buf: Buffer, pos: number): FrameCandidate {
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
  protected isIntact(frame: Buffer): boolean {
    return hasValidJbdChecksum(frame);
  }
  protected checkError(frame: Uint8Array): JbdFramingError {
    return new JbdChecksumError(frame);
  }
  protected garbageError(bytes: Uint8Array): JbdFramingError {
    return new JbdGarbageError(bytes);
  }
  protected override truncatedError(bytes: Uint8Array, expectedLength?: number): JbdFramingError {
    return new JbdTruncatedError(bytes, expectedLength);
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
