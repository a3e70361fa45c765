/**
 * The agent's sense of time, in Unix milliseconds. Real time by default; a scaled clock runs
 * simulated time `speed` times faster from `originMs`, for demos and for tests that need thousands
 * of intervals in a minute. Being a pure function of the wall clock, it agrees with itself across
 * restarts, which crash tests rely on.
 */
export interface AgentClock {
  now(): number;
  /** Wall-clock milliseconds until simulated time reaches `atMs` (0 when it already has). */
  delayUntil(atMs: number): number;
}

export const realClock: AgentClock = {
  now: () => Date.now(),
  delayUntil: (atMs) => Math.max(0, atMs - Date.now()),
};

export function scaledClock(originMs: number, speed: number): AgentClock {
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`clock speed must be a positive number, got ${speed}`);
  if (speed === 1) return realClock;
  const now = () => originMs + (Date.now() - originMs) * speed;
  return { now, delayUntil: (atMs) => Math.max(0, (atMs - now()) / speed) };
}
