import { Transform, type TransformCallback, type TransformOptions } from "node:stream";

/** What the bytes at a position can be: not enough yet, not a frame start, or a frame of a length. */
export type FrameCandidate =
  { kind: "need"; length?: number } | { kind: "garbage" } | { kind: "frame"; length: number };

/**
 * Length-framed, checksummed serial protocols (Modbus RTU, JBD) as a stream transform: bytes in,
 * frames (objects) out, typed errors in place of anything that is not an intact frame.
 *
 * Frames are cut by the lengths their headers announce, because a pseudo-terminal or a USB
 * adapter's buffering loses any timing between them, and the checksum decides. Complete frames are
 * emitted and a truncated one waits for the rest. Bytes that start no plausible frame are skipped
 * and reported once, before the next output. A frame that fails its check is reported once, and the
 * search resumes one byte after its start, so an intact frame hidden behind a false header is still
 * found; the rest of the failed span is not reported again. Every decision depends on the bytes
 * alone, never on how they were chunked. Subclasses say what a frame looks like and what to emit.
 */
export abstract class FramedParser<Out> extends Transform {
  #buffer: Buffer = Buffer.alloc(0);
  #garbage: number[] = [];
  /** Bytes still to come of a frame that failed its check: already reported, so not garbage again. */
  #failedSpan = 0;

  constructor(options: Omit<TransformOptions, "readableObjectMode"> = {}) {
    super({ ...options, readableObjectMode: true });
  }

  /** What the bytes from `pos` can be, judged from the header alone. */
  protected abstract candidateAt(buf: Buffer, pos: number): FrameCandidate;
  /** Whether a complete candidate passes its checksum. */
  protected abstract isIntact(frame: Buffer): boolean;
  /** The output for an intact frame (a copy, safe to keep). */
  protected abstract decode(frame: Buffer): Out;
  /** The output for a complete candidate that failed its checksum. */
  protected abstract checkError(frame: Uint8Array): Out;
  /** The output for bytes that started no frame. */
  protected abstract garbageError(bytes: Uint8Array): Out;
  /** The output for a stream that ends inside a frame; by default its bytes count as garbage. */
  protected truncatedError(_bytes: Uint8Array, _expectedLength?: number): Out | undefined {
    return undefined;
  }

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
      const candidate = this.candidateAt(buf, pos);
      if (candidate.kind === "need") break;
      if (candidate.kind === "frame") {
        if (buf.length - pos < candidate.length) break;
        const frame = buf.subarray(pos, pos + candidate.length);
        if (this.isIntact(frame)) {
          this.#emit(this.decode(Buffer.from(frame)));
          pos += candidate.length;
          this.#failedSpan = 0;
          continue;
        }
        if (this.#failedSpan === 0) {
          this.#emit(this.checkError(Uint8Array.from(frame)));
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
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    if (rest.length > 0) {
      const candidate = this.candidateAt(rest, 0);
      const truncated =
        candidate.kind === "need" && this.#failedSpan === 0
          ? this.truncatedError(Uint8Array.from(rest), candidate.length)
          : undefined;
      if (truncated === undefined) for (const b of rest) this.#skip(b);
      else this.#emit(truncated);
    }
    this.#flushGarbage();
    callback();
  }

  #skip(byte: number): void {
    if (this.#failedSpan > 0) this.#failedSpan--;
    else this.#garbage.push(byte);
  }

  #emit(output: Out): void {
    this.#flushGarbage();
    this.push(output);
  }

  #flushGarbage(): void {
    if (this.#garbage.length === 0) return;
    this.push(this.garbageError(Uint8Array.from(this.#garbage)));
    this.#garbage = [];
  }
}
