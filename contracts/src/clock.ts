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

// setTimeout holds at most a signed 32-bit number of milliseconds.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `callback` once `clock` reads `atMs` or later; returns a function that cancels it. A timer
 * may fire a fraction of a millisecond early by the clock (timers and Date.now() are different
 * clocks), which a scaled clock multiplies into seconds: an early timer is re-armed rather than
 * trusted, so the callback never sees a time before `atMs`.
 */
export function atClockTime(clock: Clock, atMs: number, callback: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    timer = setTimeout(
      () => {
        if (clock.now() < atMs) arm();
        else callback();
      },
      Math.min(Math.max(1, Math.ceil(clock.delayUntil(atMs))), MAX_TIMEOUT_MS),
    );
  };
  arm();
  return () => clearTimeout(timer);
}
