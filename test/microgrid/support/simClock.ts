import { scaledClock, type Clock } from "@gridmesh/contracts";

/**
 * The one scaled clock every process of a scenario runs on, with the conversions a test needs to
 * wait for simulated moments. Every process gets the same `{originMs, speed}`, so all of them read
 * the same simulated time at the same wall-clock instant.
 */
export interface SimClock extends Clock {
  readonly config: { originMs: number; speed: number };
  /** Resolves once simulated time has reached `simMs`. */
  until(simMs: number): Promise<void>;
  /** Simulated time as ISO 8601, for messages. */
  iso(simMs?: number): string;
}

/**
 * A clock that reads `startMs` now and runs `speed` times faster than the wall clock. From
 * sim = origin + (wall − origin)·speed and sim = start at wall = now: origin = (now·speed − start)/(speed − 1).
 */
export function simClockStartingAt(startMs: number, speed: number): SimClock {
  if (!(speed > 1)) throw new RangeError(`a scenario clock must run faster than real time, not ${speed}×`);
  const originMs = Math.round((Date.now() * speed - startMs) / (speed - 1));
  const clock = scaledClock(originMs, speed);
  return {
    config: { originMs, speed },
    now: () => clock.now(),
    delayUntil: (atMs) => clock.delayUntil(atMs),
    until: async (simMs) => {
      // setTimeout may fire a little early; loop until the clock agrees.
      while (clock.now() < simMs)
        await new Promise((r) => setTimeout(r, Math.max(1, clock.delayUntil(simMs))));
    },
    iso: (simMs = clock.now()) => new Date(simMs).toISOString(),
  };
}
