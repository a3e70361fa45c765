import { SerialError } from "./errors.js";
import type { ModbusPort } from "./modbusPort.js";

/** What a framing Transform offers: parsed items as data events, and a way to drop a half frame. */
export interface FrameParser<T> {
  write(chunk: Buffer): unknown;
  reset(): void;
  on(event: "data", listener: (item: T) => void): unknown;
  off(event: "data", listener: (item: T) => void): unknown;
}

/** The counters the transport keeps, in the driver's own (larger) stats object. */
export interface TransportStats {
  requests: number;
  retries: number;
  timeouts: number;
  garbageBytes: number;
}

/** What one parsed item means to the attempt waiting for it; `undefined` is "not ours, keep waiting". */
export type Verdict =
  | { answer: Buffer }
  | { fail: Error }
  /** Noise before the answer is survivable; the answer may still follow. */
  | { garbage: number }
  /**
   * A frame whose check failed. Noise can pose as a header just before the intact answer, so the
   * attempt fails only if no answer follows within `quietMs`.
   */
  | { corrupt: Error }
  | undefined;

export interface SerialTransportOptions<T> {
  port: ModbusPort;
  parser: FrameParser<T>;
  stats: TransportStats;
  timeoutMs: number;
  quietMs: number;
  /** The protocol's timeout error for an attempt that saw `garbageBytes` of noise. */
  timeoutError: (timeoutMs: number, garbageBytes: number) => Error;
}

export interface RequestOptions<T> {
  request: Buffer;
  retries: number;
  judge: (item: T) => Verdict;
  /** Thrown when the transport is (or becomes) closed before an attempt. */
  closedError: () => Error;
  /** The driver's final error, naming where it asked, once retrying is over. */
  failure: (error: unknown, attempts: number, retryable: boolean) => Error;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Request/response over a byte port for protocols without transaction ids (Modbus RTU, JBD UART):
 * one request at a time, each attempt timed out, retryable `SerialError`s retried.
 *
 * A response arriving after its request timed out looks like the answer to the next one, so after
 * any failure or stray bytes the transport waits for `quietMs` of line silence and clears the
 * parser before asking again.
 */
export class SerialTransport<T> {
  readonly #port: ModbusPort;
  readonly #parser: FrameParser<T>;
  readonly #stats: TransportStats;
  readonly #timeoutMs: number;
  readonly #quietMs: number;
  readonly #timeoutError: SerialTransportOptions<T>["timeoutError"];

  #queue: Promise<unknown> = Promise.resolve();
  #pending: ((item: T) => void) | undefined;
  #cancelPending: ((error: Error) => void) | undefined;
  #lastByteAt = -Infinity;
  #needQuiet = false;
  #closed = false;

  constructor(options: SerialTransportOptions<T>) {
    this.#port = options.port;
    this.#parser = options.parser;
    this.#stats = options.stats;
    this.#timeoutMs = options.timeoutMs;
    this.#quietMs = options.quietMs;
    this.#timeoutError = options.timeoutError;
    this.#parser.on("data", this.#onFrame);
    this.#port.on("data", this.#onData);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Detaches from port and parser; an attempt under way fails with `error`. */
  close(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.off("data", this.#onData);
    this.#parser.off("data", this.#onFrame);
    this.#cancelPending?.(error);
  }

  /** Runs `task` after every task queued before it has settled. */
  serial<R>(task: () => Promise<R>): Promise<R> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Await line silence before the next request, e.g. because a late duplicate answer may follow. */
  unsettle(): void {
    this.#needQuiet = true;
  }

  /** Sends `request` until an answer, retrying retryable failures up to `retries` times. */
  async request({ request, retries, judge, closedError, failure }: RequestOptions<T>): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw closedError();
      try {
        const data = await this.send(request, judge);
        // A late duplicate of an earlier attempt's answer may still be on its way.
        if (attempt > 1) this.#needQuiet = true;
        return data;
      } catch (error) {
        const retryable = error instanceof SerialError && error.retryable && !this.#closed;
        if (!retryable || attempt > retries) throw failure(error, attempt, retryable);
        this.#stats.retries++;
      }
    }
  }

  /** One attempt, counted as a request, after line silence if a failure or stray bytes call for it. */
  async send(request: Buffer, judge: (item: T) => Verdict, timeoutMs = this.#timeoutMs): Promise<Buffer> {
    if (this.#needQuiet) await this.#awaitQuiet();
    this.#stats.requests++;
    try {
      return await this.#attempt(request, judge, timeoutMs);
    } catch (error) {
      this.#needQuiet = true;
      throw error;
    }
  }

  #onData = (chunk: Buffer): void => {
    this.#lastByteAt = performance.now();
    // Bytes outside a request answer nothing we asked: drop them and let the line settle first.
    if (this.#pending) this.#parser.write(chunk);
    else this.#needQuiet = true;
  };

  #onFrame = (item: T): void => {
    if (this.#pending) this.#pending(item);
    else this.#needQuiet = true;
  };

  /** Waits until no byte has arrived for `quietMs` (bounded, for a line that never falls silent). */
  async #awaitQuiet(): Promise<void> {
    const giveUpAt = performance.now() + this.#timeoutMs + this.#quietMs;
    for (;;) {
      const now = performance.now();
      const wait = this.#lastByteAt + this.#quietMs - now;
      if (wait <= 0 || now >= giveUpAt) break;
      await sleep(Math.min(wait, giveUpAt - now));
    }
    this.#parser.reset();
    this.#needQuiet = false;
  }

  #attempt(request: Buffer, judge: (item: T) => Verdict, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let garbageBytes = 0;
      let corruptGrace: NodeJS.Timeout | undefined;
      const finish = (error: Error | undefined, data?: Buffer) => {
        clearTimeout(timer);
        clearTimeout(corruptGrace);
        this.#pending = undefined;
        this.#cancelPending = undefined;
        if (error) reject(error);
        else resolve(data!);
      };
      const timer = setTimeout(() => {
        this.#stats.timeouts++;
        finish(this.#timeoutError(timeoutMs, garbageBytes));
      }, timeoutMs);
      this.#cancelPending = (error) => finish(error);
      this.#pending = (item) => {
        const verdict = judge(item);
        if (!verdict) return;
        if ("garbage" in verdict) {
          garbageBytes += verdict.garbage;
          this.#stats.garbageBytes += verdict.garbage;
        } else if ("corrupt" in verdict) {
          corruptGrace ??= setTimeout(() => finish(verdict.corrupt), this.#quietMs);
        } else if ("fail" in verdict) finish(verdict.fail);
        else finish(undefined, verdict.answer);
      };
      this.#port.write(request, (error) => {
        if (error && this.#pending) finish(error);
      });
    });
  }
}
