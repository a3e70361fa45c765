/**
 * The trading-interval time model every part shares (ARCHITECTURE §4): interval t covers
 * [t × length, (t + 1) × length) in unix seconds; its orders close `gateClosure` seconds before it
 * starts; its readings arrive after it ends.
 */
export interface IntervalSchedule {
  intervalSeconds: number;
  gateClosureSeconds: number;
}

function check({ intervalSeconds, gateClosureSeconds }: IntervalSchedule): void {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds <= 0) {
    throw new RangeError(`intervalSeconds must be a positive whole number, got ${intervalSeconds}`);
  }
  if (
    !Number.isInteger(gateClosureSeconds) ||
    gateClosureSeconds < 0 ||
    gateClosureSeconds >= intervalSeconds
  ) {
    throw new RangeError(
      `gateClosureSeconds must be a whole number in [0, ${intervalSeconds}), got ${gateClosureSeconds}`,
    );
  }
}

/** The interval containing `unixSeconds`. */
export function intervalAt(schedule: IntervalSchedule, unixSeconds: number): number {
  check(schedule);
  return Math.floor(unixSeconds / schedule.intervalSeconds);
}

/** When interval `t` starts, ends and closes for orders, in unix seconds. */
export function intervalTimes(schedule: IntervalSchedule, t: number) {
  check(schedule);
  const start = t * schedule.intervalSeconds;
  return { start, end: start + schedule.intervalSeconds, gateClosure: start - schedule.gateClosureSeconds };
}

/** The first interval whose gate is still open at `unixSeconds`: the earliest one to place orders for. */
export function nextOpenInterval(schedule: IntervalSchedule, unixSeconds: number): number {
  const t = intervalAt(schedule, unixSeconds) + 1;
  return unixSeconds < intervalTimes(schedule, t).gateClosure ? t : t + 1;
}
