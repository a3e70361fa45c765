/**
 * The arithmetic behind the app's SVG charts, kept apart from React so it can be tested: scales
 * from data to pixels, and the step lines of a depth chart.
 */

export interface Scale {
  (value: number): number;
  domain: [number, number];
}

/** A linear map from [d0, d1] to [r0, r1]; an empty domain maps everything to the range's middle. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  const scale = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as Scale;
  scale.domain = [d0, d1];
  return scale;
}

/** [min, max] of the values, widened to include `include` (e.g. 0 for bar charts). */
export function extent(values: readonly number[], include?: number): [number, number] {
  let lo = include ?? Infinity;
  let hi = include ?? -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? [0, 1] : [lo, hi];
}

export interface DepthPoint {
  price: number;
  cumulativeWh: number;
}

/**
 * A depth curve's corner points: cumulative volume held flat until the next price level, so the
 * supply curve (offers, ascending price) and the demand curve (bids, descending) step like an
 * order book's, and cross at the price that clears the most volume.
 */
export function depthSteps(levels: readonly DepthPoint[]): [number, number][] {
  const points: [number, number][] = [];
  let previous = 0;
  for (const level of levels) {
    points.push([level.price, previous], [level.price, level.cumulativeWh]);
    previous = level.cumulativeWh;
  }
  return points;
}

/** "12", "1.2k", "3.4M": axis labels that fit. */
export function compactNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  if (abs >= 10 || value === 0) return `${+value.toFixed(0)}`;
  // Small amounts (a few cents of earnings) keep two significant digits instead of rounding to 0.
  return `${+value.toPrecision(2)}`;
}
