/**
 * The nonces of recently accepted requests, so that none is accepted twice. A nonce only needs
 * remembering while its request's timestamp is still inside the server's window: after that, the
 * timestamp check refuses the replay anyway. That bounds the cache in time; `maxEntries` bounds it
 * in size, and a full cache refuses new requests rather than forget a live nonce, which would
 * reopen the replay it exists to close.
 */
export class NonceCache {
  /** key id + nonce → when it may be forgotten (milliseconds since the epoch). */
  readonly #entries = new Map<string, number>();
  #nextSweep = 0;

  constructor(
    private readonly maxEntries: number,
    /** How often expired entries are dropped when the cache is not full (milliseconds). */
    private readonly sweepInterval: number,
  ) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0)) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  /**
   * Records a nonce until `forgetAt`. "replayed" if it is already recorded, "full" if there is no
   * room for it.
   */
  claim(keyId: string, nonce: string, forgetAt: number, now: number): "fresh" | "replayed" | "full" {
    if (now >= this.#nextSweep || this.#entries.size >= this.maxEntries) this.#sweep(now);
    // Key ids and nonces are checked to be free of spaces before they get here.
    const entry = `${keyId} ${nonce}`;
    const known = this.#entries.get(entry);
    if (known !== undefined && known > now) return "replayed";
    if (this.#entries.size >= this.maxEntries) return "full";
    this.#entries.set(entry, forgetAt);
    return "fresh";
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number): void {
    for (const [entry, forgetAt] of this.#entries) {
      if (forgetAt <= now) this.#entries.delete(entry);
    }
    this.#nextSweep = now + this.sweepInterval;
  }
}
