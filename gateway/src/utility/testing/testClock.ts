import type { Clock } from "@gridmesh/contracts";

/**
 * A Clock a test can set: it stands still (speed 0) or runs `speed` times the wall clock from the
 * last time set, so a test can place the utility at an hour, then let its loops run seconds fast.
 */
export class TestClock implements Clock {
  #simulated: number;
  #wall = Date.now();
  #speed: number;

  constructor(startMs: number, speed = 0) {
    this.#simulated = startMs;
    this.#speed = speed;
  }

  now(): number {
    return this.#simulated + (Date.now() - this.#wall) * this.#speed;
  }

  delayUntil(atMs: number): number {
    const left = atMs - this.now();
    if (left <= 0) return 0;
    // Standing still, a sleeper re-checks every few milliseconds for the test to move time on.
    return this.#speed === 0 ? 5 : left / this.#speed;
  }

  set(ms: number): void {
    this.#simulated = ms;
    this.#wall = Date.now();
  }

  advance(ms: number): void {
    this.set(this.now() + ms);
  }

  run(speed: number): void {
    this.set(this.now());
    this.#speed = speed;
  }
}
