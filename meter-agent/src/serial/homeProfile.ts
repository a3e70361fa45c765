/** A home's power at one moment: rooftop solar generation and household load, both ≥ 0. */
export interface HomePower {
  readonly solarW: number;
  readonly loadW: number;
}

/** Power as a function of (simulated) Unix time in milliseconds. */
export type HomeProfile = (atMs: number) => HomePower;

export interface HomeProfileOptions {
  /** Solar output at solar noon. Default 4,000 W. */
  solarPeakW?: number;
  /** Load around the clock. Default 300 W. */
  baseLoadW?: number;
  /** Extra load at the 07:30 peak. Default 1,200 W. */
  morningPeakW?: number;
  /** Extra load at the 19:00 peak. Default 2,000 W. */
  eveningPeakW?: number;
  /** Local time = UTC + this, for where the day falls. Default 0. */
  utcOffsetHours?: number;
}

const HOUR_MS = 3_600_000;
const bump = (hour: number, centre: number, width: number) => Math.exp(-(((hour - centre) / width) ** 2));

/**
 * A clear-sky day: solar follows half a sine from 06:00 to 18:00, the load has a morning and an
 * evening peak. Smooth, so the simulator's trapezoidal integration is close to exact.
 */
export function homeProfile(options: HomeProfileOptions = {}): HomeProfile {
  const {
    solarPeakW = 4000,
    baseLoadW = 300,
    morningPeakW = 1200,
    eveningPeakW = 2000,
    utcOffsetHours = 0,
  } = options;
  return (atMs) => {
    const hour = (((atMs / HOUR_MS + utcOffsetHours) % 24) + 24) % 24;
    const solarW = hour > 6 && hour < 18 ? solarPeakW * Math.sin((Math.PI * (hour - 6)) / 12) : 0;
    const loadW = baseLoadW + morningPeakW * bump(hour, 7.5, 1) + eveningPeakW * bump(hour, 19, 1.5);
    return { solarW, loadW };
  };
}
