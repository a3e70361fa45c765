import { atClockTime, type Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import { newTaskStatus, runRecorded, type TaskStatus } from "../../service/loops.js";

/** What the operator status shows of one loop (the gateway's task status); times are the Clock's. */
export type ClockLoopStatus = TaskStatus;

export interface ClockLoopSpec {
  name: string;
  /** When the next run is due (Clock ms), given the Clock time now. */
  nextAt: (nowMs: number) => number;
  /** `dueMs` is the Clock time the run was due (the start, for the run at start). */
  run: (dueMs: number) => Promise<unknown>;
  /** Run once at start before waiting for the first due time (e.g. to catch up after downtime). */
  runAtStart?: boolean;
}

/**
 * Loops that run on the utility's Clock, each on its own schedule (every second, every hour, at a
 * time of day): a simulated clock speeds every schedule up alike. A run's failure is logged and
 * kept for the status and never stops the loop; a slow run delays the next one rather than
 * overlapping it. stop() wakes every sleeping loop and waits for running ones to finish.
 */
export class ClockLoops {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #specs: { spec: ClockLoopSpec; status: ClockLoopStatus }[] = [];
  readonly #sleepers = new Set<{ cancel: () => void; wake: () => void }>();
  #running: Promise<void>[] = [];
  #stopped = false;

  readonly #minWallGapMs: number;

  /**
   * `minWallGapMs` bounds how often any loop runs in wall-clock time: on a fast simulated clock a
   * loop due every simulated second would otherwise query the store hundreds of times a second.
   * At real speed it never binds.
   */
  constructor(clock: Clock, logger: Logger, options: { minWallGapMs?: number } = {}) {
    this.#clock = clock;
    this.#logger = logger;
    this.#minWallGapMs = options.minWallGapMs ?? 0;
  }

  add(spec: ClockLoopSpec): void {
    this.#specs.push({ spec, status: newTaskStatus(spec.name) });
  }

  start(): void {
    this.#stopped = false;
    this.#running = this.#specs.map((entry) => this.#loop(entry));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const sleeper of this.#sleepers) {
      sleeper.cancel();
      sleeper.wake();
    }
    this.#sleepers.clear();
    await Promise.all(this.#running);
  }

  status(): ClockLoopStatus[] {
    return this.#specs.map((e) => ({ ...e.status }));
  }

  /** Resolves once the Clock reaches `atMs`, or at stop. Returns whether the loops still run. */
  async sleepUntil(atMs: number): Promise<boolean> {
    if (this.#stopped) return false;
    if (this.#clock.now() >= atMs) return true;
    await this.#sleep((done) => atClockTime(this.#clock, atMs, done));
    return !this.#stopped;
  }

  /** Sleeps `ms` of wall-clock time, or until stop. */
  #sleepWall(ms: number): Promise<void> {
    return this.#sleep((done) => {
      const timer = setTimeout(done, ms);
      return () => clearTimeout(timer);
    });
  }

  /** Waits for the timer `arm` sets (it returns its cancel), or for stop, whichever is first. */
  #sleep(arm: (done: () => void) => () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const sleeper = {
        cancel: arm(() => {
          this.#sleepers.delete(sleeper);
          resolve();
        }),
        wake: resolve,
      };
      this.#sleepers.add(sleeper);
    });
  }

  async #loop(entry: { spec: ClockLoopSpec; status: ClockLoopStatus }): Promise<void> {
    let startedWall = performance.now();
    if (entry.spec.runAtStart === true && !this.#stopped) await this.#runOnce(entry, this.#clock.now());
    while (!this.#stopped) {
      const gap = startedWall + this.#minWallGapMs - performance.now();
      if (gap > 0) await this.#sleepWall(gap);
      const due = entry.spec.nextAt(this.#clock.now());
      if (!(await this.sleepUntil(due))) return;
      startedWall = performance.now();
      await this.#runOnce(entry, due);
    }
  }

  async #runOnce(
    { spec, status }: { spec: ClockLoopSpec; status: ClockLoopStatus },
    dueMs: number,
  ): Promise<void> {
    const failure = await runRecorded(
      status,
      () => spec.run(dueMs),
      () => this.#clock.now(),
    );
    if (failure !== undefined)
      this.#logger.warn(
        { loop: spec.name, err: failure.error },
        "utility loop failed; it runs again when next due",
      );
  }
}

/** Schedules: the next whole `periodMs` after now (every second, every hour). */
export const every =
  (periodMs: number, offsetMs = 0) =>
  (nowMs: number): number =>
    Math.floor((nowMs - offsetMs) / periodMs) * periodMs + periodMs + offsetMs;
