import { atClockTime, type Clock } from "@gridmesh/contracts";
import type { Logger } from "pino";

/**
 * Runs `run` every `periodMs()` of the controller's clock (simulated or real), the first time at
 * once. Runs never overlap: a slow one pushes the next back rather than stacking. The period is
 * read again for every wait, and `reschedule()` applies a changed period without waiting out the
 * old one. A failing run is logged and the task carries on.
 */
export class PeriodicTask {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #periodMs: () => number;
  readonly #run: () => Promise<unknown>;
  readonly #logger: Logger;
  #cancelTimer: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #nextAtMs = 0;
  #stopped = true;

  constructor(
    name: string,
    clock: Clock,
    periodMs: () => number,
    run: () => Promise<unknown>,
    logger: Logger,
  ) {
    this.#name = name;
    this.#clock = clock;
    this.#periodMs = periodMs;
    this.#run = run;
    this.#logger = logger;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#nextAtMs = this.#clock.now();
    this.#arm();
  }

  /** The next run comes one (possibly new) period from now. */
  reschedule(): void {
    this.#nextAtMs = this.#clock.now() + this.#periodMs();
    if (this.#running === undefined) this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    await this.#running;
  }

  #arm(): void {
    this.#cancelTimer?.();
    if (this.#stopped) return;
    this.#cancelTimer = atClockTime(this.#clock, this.#nextAtMs, () => this.#fire());
  }

  #fire(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    // Late runs are not made up: after a stall the next run is a whole period away.
    const next = this.#nextAtMs + this.#periodMs();
    this.#nextAtMs = next > now ? next : now + this.#periodMs();
    this.#running = Promise.resolve()
      .then(() => this.#run())
      .then(
        () => undefined,
        (err: unknown) =>
          this.#logger.warn({ task: this.#name, err }, "periodic task failed; it runs again next period"),
      )
      .finally(() => {
        this.#running = undefined;
        this.#arm();
      });
  }
}
