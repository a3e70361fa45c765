/**
 * What a request asks of one meter: `get` polls it (status, readings, acknowledgements), `deliver`
 * sends it the commands waiting in its outbox.
 */
export type RequestKind = "get" | "deliver";

export interface MeterRequest {
  kind: RequestKind;
  meter: string;
  /** Failed attempts so far; sets the retry delay. */
  failures: number;
  /** Not to be sent before this time (ms on the controller's clock): a retry's delay. */
  notBeforeMs: number;
}

/**
 * Seed 000's Request_Stack: outstanding requests to meters, newest on top, at most one per meter
 * and kind. Last in, first out because what customers feel is the present: the newest request is
 * answered first, and a backlog left by an outage drains behind it. A request that failed goes back
 * on top but is not taken again before its retry delay.
 */
export class RequestStack {
  /** Bottom first; the top is the end. */
  readonly #entries: MeterRequest[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /**
   * Puts a request on top. One already waiting for the same meter and kind moves to the top
   * instead of being repeated, keeping its failures and retry delay: asking again does not make a
   * failing meter answer sooner.
   */
  push(kind: RequestKind, meter: string, notBeforeMs = 0): void {
    const i = this.#find(kind, meter);
    const existing = i < 0 ? undefined : this.#entries.splice(i, 1)[0]!;
    this.#entries.push({
      kind,
      meter,
      failures: existing?.failures ?? 0,
      notBeforeMs: Math.max(notBeforeMs, existing?.notBeforeMs ?? 0),
    });
  }

  /** Back on top after a failure, not to be tried again before `retryAtMs`. */
  pushFailed(request: MeterRequest, retryAtMs: number): void {
    const i = this.#find(request.kind, request.meter);
    const existing = i < 0 ? undefined : this.#entries.splice(i, 1)[0]!;
    this.#entries.push({
      kind: request.kind,
      meter: request.meter,
      failures: Math.max(request.failures, existing?.failures ?? 0) + 1,
      notBeforeMs: Math.max(retryAtMs, existing?.notBeforeMs ?? 0),
    });
  }

  /** Takes the topmost request that may be sent at `nowMs` to a meter `busy` does not exclude. */
  pop(nowMs: number, busy: (meter: string) => boolean = () => false): MeterRequest | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!;
      if (entry.notBeforeMs <= nowMs && !busy(entry.meter)) return this.#entries.splice(i, 1)[0];
    }
    return undefined;
  }

  /** The meter answered: its other waiting requests may go at once, their failures forgotten. */
  meterAnswered(meter: string): void {
    for (const e of this.#entries) {
      if (e.meter !== meter) continue;
      e.failures = 0;
      e.notBeforeMs = 0;
    }
  }

  /** The earliest time a waiting request becomes sendable (undefined when the stack is empty). */
  nextReadyAt(): number | undefined {
    let earliest: number | undefined;
    for (const e of this.#entries)
      if (earliest === undefined || e.notBeforeMs < earliest) earliest = e.notBeforeMs;
    return earliest;
  }

  /** Top first. */
  snapshot(): MeterRequest[] {
    return this.#entries.toReversed().map((e) => ({ ...e }));
  }

  #find(kind: RequestKind, meter: string): number {
    return this.#entries.findIndex((e) => e.kind === kind && e.meter === meter);
  }
}
