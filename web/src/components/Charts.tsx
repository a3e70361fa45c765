import { compactNumber, depthSteps, extent, linearScale, type DepthPoint } from "../lib/chartGeometry.js";

const W = 640;
const H = 220;
const PAD = { left: 48, right: 12, top: 10, bottom: 26 };

export interface Series {
  name: string;
  color: string;
  values: readonly number[];
}

function Axes({ yDomain, xLabels }: { yDomain: [number, number]; xLabels: readonly string[] }) {
  const y = linearScale(yDomain, [H - PAD.bottom, PAD.top]);
  const ticks = [yDomain[0], (yDomain[0] + yDomain[1]) / 2, yDomain[1]];
  const step = Math.max(1, Math.ceil(xLabels.length / 6));
  const x = linearScale([0, Math.max(1, xLabels.length - 1)], [PAD.left, W - PAD.right]);
  return (
    <g>
      {ticks.map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke="#e5e9e5" />
          <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
            {compactNumber(t)}
          </text>
        </g>
      ))}
      {xLabels.map((label, i) =>
        i % step === 0 ? (
          <text key={i} x={x(i)} y={H - 6} textAnchor="middle">
            {label}
          </text>
        ) : null,
      )}
    </g>
  );
}

function Legend({ series }: { series: readonly Series[] }) {
  return (
    <div className="legend">
      {series.map((s) => (
        <span key={s.name}>
          <i style={{ background: s.color }} />
          {s.name}
        </span>
      ))}
    </div>
  );
}

/** Grouped bars per period: production against consumption, earnings against spending. */
export function BarChart({
  title,
  labels,
  series,
}: {
  title: string;
  labels: readonly string[];
  series: readonly Series[];
}) {
  const yDomain = extent(
    series.flatMap((s) => s.values),
    0,
  );
  const y = linearScale(yDomain, [H - PAD.bottom, PAD.top]);
  const slot = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  const bar = Math.max(1, (slot * 0.8) / series.length);
  return (
    <figure>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <Axes yDomain={yDomain} xLabels={[]} />
        {series.map((s, si) =>
          s.values.map((v, i) => {
            const x0 = PAD.left + i * slot + slot * 0.1 + si * bar;
            const top = Math.min(y(v), y(0));
            return (
              <rect
                key={`${s.name}-${i}`}
                x={x0}
                width={bar}
                y={top}
                height={Math.abs(y(v) - y(0))}
                fill={s.color}
              />
            );
          }),
        )}
        {labels.map((label, i) =>
          i % Math.max(1, Math.ceil(labels.length / 6)) === 0 ? (
            <text key={i} x={PAD.left + (i + 0.5) * slot} y={H - 6} textAnchor="middle">
              {label}
            </text>
          ) : null,
        )}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

/** Lines over periods: clearing prices, battery state of charge. */
export function LineChart({
  title,
  labels,
  series,
  domain,
}: {
  title: string;
  labels: readonly string[];
  series: readonly Series[];
  /** A fixed y range (a percentage's 0–100); the values' own extent otherwise. */
  domain?: [number, number];
}) {
  const yDomain = domain ?? extent(series.flatMap((s) => s.values));
  const y = linearScale(yDomain, [H - PAD.bottom, PAD.top]);
  const x = linearScale([0, Math.max(1, labels.length - 1)], [PAD.left, W - PAD.right]);
  return (
    <figure>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <Axes yDomain={yDomain} xLabels={labels} />
        {series.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.color}
            strokeWidth={2}
            points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
          />
        ))}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

/** An interval's supply and demand curves; where they cross is the clearing. */
export function DepthChart({
  offers,
  bids,
  priceLabel,
}: {
  offers: readonly DepthPoint[];
  bids: readonly DepthPoint[];
  priceLabel: string;
}) {
  const prices = [...offers, ...bids].map((l) => l.price);
  const volumes = [...offers, ...bids].map((l) => l.cumulativeWh);
  const xDomain = extent(prices);
  const x = linearScale(xDomain[0] === xDomain[1] ? [xDomain[0] * 0.9, xDomain[1] * 1.1 + 1] : xDomain, [
    PAD.left,
    W - PAD.right,
  ]);
  const y = linearScale(extent(volumes, 0), [H - PAD.bottom, PAD.top]);
  const path = (levels: readonly DepthPoint[]) =>
    depthSteps(levels)
      .map(([p, v]) => `${x(p)},${y(v)}`)
      .join(" ");
  return (
    <figure>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Depth chart">
        <Axes yDomain={extent(volumes, 0)} xLabels={[]} />
        <polyline fill="none" stroke="var(--offer)" strokeWidth={2} points={path(offers)} />
        <polyline fill="none" stroke="var(--bid)" strokeWidth={2} points={path(bids)} />
        <text x={W - PAD.right} y={H - 6} textAnchor="end">
          {priceLabel} →
        </text>
        <text x={PAD.left} y={H - 6}>
          {compactNumber(x.domain[0])}
        </text>
      </svg>
      <Legend
        series={[
          { name: "Offers (cumulative Wh)", color: "var(--offer)", values: [] },
          { name: "Bids (cumulative Wh)", color: "var(--bid)", values: [] },
        ]}
      />
    </figure>
  );
}
