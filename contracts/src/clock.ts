/**
 * The time every GridMesh process runs on, in Unix milliseconds. Real time by default; a scaled
 * clock runs simulated time `speed` times faster from `originMs`, for demos and for tests that need
 * days of meter readings, controller polls and utility hours in a minute. Being a pure function of
 * the wall clock, it agrees with itself across restarts and across processes given the same origin
 * and speed, which crash tests and multi-process scenarios rely on.
 */
export interface Clock {
  now(): number;
  /** Wall-clock milliseconds until simulated time reaches `atMs` (0 when it already has). */
  delayUntil(atMs: number): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  delayUntil: (atMs) => Math.max(0, atMs - Date.now()),
};

export function scaledClock(originMs: number, speed: number): Clock {
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`clock speed must be a positive number, got ${speed}`);
  if (speed === 1) return realClock;
  const now = () => originMs + (Date.now() - originMs) * speed;
  return { now, delayUntil: (atMs) => Math.max(0, (atMs - now()) / speed) };
}

/** The clock a process's configuration asks for: scaled when it gives `{originMs, speed}`, else real. */
export function configuredClock(simulated: { originMs: number; speed: number } | undefined): Clock {
  return simulated === undefined ? realClock : scaledClock(simulated.originMs, simulated.speed);
}
