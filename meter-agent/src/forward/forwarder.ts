import type { Logger } from "pino";

import type { ReadingStore } from "../store/readingStore.js";
import { type Uplink, UplinkError } from "./uplink.js";

export interface ForwarderOptions {
  store: ReadingStore;
  uplink: Uplink;
  log: Logger;
  /** First wait after a failure; doubles up to `maxBackoffMs`. Default 1 s. */
  minBackoffMs?: number;
  /** Default 60 s. */
  maxBackoffMs?: number;
}

export interface ForwardStats {
  batches: number;
  delivered: number;
  duplicates: number;
  rejected: number;
  failures: number;
}

/**
 * Sends stored readings through one uplink until none waits for it, and keeps trying through
 * outages. Only what the store holds is sent, and a reading is marked delivered (for this uplink
 * only) after the receiver confirmed it, so a crash at any point re-sends at most what was in
 * flight; receivers treat (meter, sequence) as the idempotency key and answer "duplicate", which
 * counts as delivered. An agent with several uplinks runs one forwarder per uplink, each with its
 * own backoff, so one receiver's outage never holds back another's readings.
 */
export class Forwarder {
  readonly stats: ForwardStats = { batches: 0, delivered: 0, duplicates: 0, rejected: 0, failures: 0 };
  readonly #o: Required<Omit<ForwarderOptions, "log">> & { log: Logger };
  #running = false;
  #wake: (() => void) | undefined;
  #sleep: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #backoffMs = 0;

  constructor(options: ForwarderOptions) {
    this.#o = { minBackoffMs: 1000, maxBackoffMs: 60_000, ...options };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** A new reading was stored: send it now unless waiting out a failure. */
  notify(): void {
    if (this.#backoffMs === 0) this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /** Sends one batch; returns how many readings it settled (0 when nothing is pending). */
  async sendOnce(): Promise<number> {
    const { store, uplink, log } = this.#o;
    const batch = store.pending(uplink.batchSize, uplink.order, uplink.name);
    if (batch.length === 0) return 0;
    const outcomes = await uplink.submit(batch);
    this.stats.batches++;
    const known = new Set(batch.map((r) => r.reading.sequence));
    const delivered: bigint[] = [];
    for (const o of outcomes) {
      if (!known.has(o.sequence))
        throw new UplinkError(`${uplink.name} answered for sequence ${o.sequence}, which was not sent`);
      if (o.status === "rejected") {
        this.stats.rejected++;
        store.markExpired(o.sequence, uplink.name, o.reason, Date.now());
        log.warn(
          { sequence: o.sequence.toString(), reason: o.reason, uplink: uplink.name },
          "reading rejected for good",
        );
      } else {
        delivered.push(o.sequence);
        if (o.status === "duplicate") this.stats.duplicates++;
        else this.stats.delivered++;
      }
    }
    store.markDelivered(delivered, uplink.name, Date.now());
    return outcomes.length;
  }

  async #run(): Promise<void> {
    const { log, uplink, minBackoffMs, maxBackoffMs } = this.#o;
    while (this.#running) {
      let settled = 0;
      try {
        settled = await this.sendOnce();
        this.#backoffMs = 0;
      } catch (e) {
        this.stats.failures++;
        this.#backoffMs = Math.min(maxBackoffMs, this.#backoffMs === 0 ? minBackoffMs : this.#backoffMs * 2);
        const retryable = e instanceof UplinkError ? e.retryable : false;
        // An outage is expected and logged in one line; anything else keeps its stack.
        if (retryable) {
          log.warn(
            { error: (e as Error).message, uplink: uplink.name, retryInMs: this.#backoffMs },
            "uplink unavailable; readings stay stored",
          );
        } else {
          log.error(
            { err: e, uplink: uplink.name, retryInMs: this.#backoffMs },
            "uplink failed; readings stay stored",
          );
        }
      }
      if (!this.#running) break;
      if (settled === 0 || this.#backoffMs > 0)
        await this.#pause(this.#backoffMs > 0 ? this.#backoffMs : maxBackoffMs);
    }
  }

  #pause(ms: number): Promise<void> {
    // Up to ±20 % jitter, so a microgrid of agents coming back after an outage does not retry in step.
    const jittered = this.#backoffMs > 0 ? ms * (0.8 + Math.random() * 0.4) : ms;
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#sleep);
        this.#wake = undefined;
        resolve();
      };
      this.#sleep = setTimeout(this.#wake, jittered);
    });
  }
}
