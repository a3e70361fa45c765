import { scaledClock, type Clock } from "@gridmesh/contracts";

const HOUR_MS = 3_600_000;

/** The one clock every part of the local system runs on, and the `{originMs, speed}` they are given. */
export interface SimulatedClock extends Clock {
  readonly originMs: number;
  readonly speed: number;
  readonly config: { originMs: number; speed: number };
}

/**
 * A clock reading `startMs` at `wallNowMs` and running `speed` times faster than the wall clock.
 * From sim = origin + (wall − origin)·speed and sim = start at wall = now:
 * origin = (now·speed − start)/(speed − 1).
 */
export function simulatedClockStartingAt(
  startMs: number,
  speed: number,
  wallNowMs = Date.now(),
): SimulatedClock {
  if (!(speed > 1)) throw new RangeError(`the simulated clock must run faster than real time, not ${speed}×`);
  const originMs = Math.round((wallNowMs * speed - startMs) / (speed - 1));
  const clock = scaledClock(originMs, speed);
  return {
    originMs,
    speed,
    config: { originMs, speed },
    now: () => clock.now(),
    delayUntil: (atMs) => clock.delayUntil(atMs),
  };
}

/**
 * Where the simulated day starts by default: `hoursBefore` hours before the end of a UTC month, so
 * that the utility bills that month within the first minutes. Never before now: the gateway takes the
 * later of the chain's time and the wall clock, so simulated time must stay ahead of the wall clock.
 */
export function defaultSimulatedStart(wallNowMs: number, hoursBefore = 2): number {
  const now = new Date(wallNowMs);
  for (let months = 1; ; months++) {
    const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1);
    const start = monthEnd - hoursBefore * HOUR_MS;
    // A margin, so the few seconds until the clock is made do not put its start behind the wall.
    if (start > wallNowMs + 60_000) return start;
  }
}

/** The first instant of the UTC month after `simMs`. */
export function nextMonthStart(simMs: number): number {
  const d = new Date(simMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `YYYY-MM` of the UTC month holding `simMs`. */
export function monthName(simMs: number): string {
  return new Date(simMs).toISOString().slice(0, 7);
}
