import type { Clock } from "@gridmesh/contracts";

import type { MeterRequest, RequestKind, RequestStack } from "./requestStack.js";

export interface RequestWorkersOptions {
  stack: RequestStack;
  clock: Clock;
  /** Requests in flight at once, over all meters. */
  concurrency: number;
  run: (request: MeterRequest) => Promise<void>;
  /** Controller-clock ms to wait before the `failures`-th retry. */
  retryDelayMs: (failures: number) => number;
  onFailure: (request: MeterRequest, error: unknown) => void;
  /**
   * Called when nothing is in flight and nothing on the stack may be sent yet, after at least one
   * `get` succeeded since the last call: a round of meter reports is complete.
   */
  onRoundDone: () => void;
}

/**
 * Sends the Request_Stack's requests: up to `concurrency` at once, always the topmost one that may
 * be sent, and never two to the same meter, since a meter must receive our nonces in order. A
 * request that fails goes back on the stack with a growing delay; none is ever dropped.
 */
export class RequestWorkers {
  readonly #o: RequestWorkersOptions;
  readonly #busy = new Map<string, RequestKind>();
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #reportsSinceRound = 0;

  constructor(options: RequestWorkersOptions) {
    this.#o = options;
  }

  /** Puts a request on top of the stack and sends what can be sent. */
  push(kind: RequestKind, meter: string): void {
    this.#o.stack.push(kind, meter);
    this.pump();
  }

  /** A request of `kind` to `meter` is in flight. */
  inFlight(kind: RequestKind, meter: string): boolean {
    return this.#busy.get(meter) === kind;
  }

  /** Starts as many requests as allowed; arms a timer for the next retry that comes due. */
  pump(): void {
    if (this.#stopped) return;
    const { stack, clock, concurrency } = this.#o;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running.size < concurrency) {
      const request = stack.pop(clock.now(), (meter) => this.#busy.has(meter));
      if (request === undefined) break;
      this.#start(request);
    }
    const next = stack.nextReadyAt();
    if (next !== undefined && next > clock.now()) {
      this.#timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(clock.delayUntil(next))));
    }
  }

  /** Sends nothing more and waits for the requests in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
  }

  #start(request: MeterRequest): void {
    const { stack, clock } = this.#o;
    this.#busy.set(request.meter, request.kind);
    const run = this.#o
      .run(request)
      .then(
        () => {
          if (request.kind === "get") this.#reportsSinceRound++;
        },
        (error: unknown) => {
          const failures = request.failures + 1;
          stack.pushFailed(request, clock.now() + this.#o.retryDelayMs(failures));
          this.#o.onFailure(request, error);
        },
      )
      .finally(() => {
        this.#busy.delete(request.meter);
        this.#running.delete(run);
        if (this.#stopped) return;
        this.pump();
        if (this.#running.size === 0 && this.#reportsSinceRound > 0 && !this.#anyReady()) {
          this.#reportsSinceRound = 0;
          this.#o.onRoundDone();
        }
      });
    this.#running.add(run);
  }

  #anyReady(): boolean {
    const next = this.#o.stack.nextReadyAt();
    return next !== undefined && next <= this.#o.clock.now();
  }
}
