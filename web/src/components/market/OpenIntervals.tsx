"use client";

import { nextOpenInterval, intervalTimes } from "@gridmesh/contracts";

import { formatDuration, formatTime } from "../../lib/format.js";
import { useChainTime } from "../../hooks/useChainTime.js";
import { useDeployment } from "../Providers.js";

/** The intervals still taking orders, soonest first, with how long each stays open. */
export function useOpenIntervals(count = 8): { now: number | undefined; intervals: number[] } {
  const { market } = useDeployment();
  const { now } = useChainTime();
  if (now === undefined) return { now, intervals: [] };
  const first = nextOpenInterval(market, now);
  return { now, intervals: Array.from({ length: count }, (_, i) => first + i) };
}

export function IntervalPicker({
  value,
  onChange,
}: {
  value: number | undefined;
  onChange: (t: number) => void;
}) {
  const { market } = useDeployment();
  const { now, intervals } = useOpenIntervals();
  if (now === undefined) return <p className="note">Reading the chain's clock…</p>;
  return (
    <label>
      Interval
      <select
        value={value ?? ""}
        onChange={(e) => onChange(Number(e.target.value))}
        data-testid="interval-picker"
      >
        {value !== undefined && !intervals.includes(value) ? (
          <option value={value}>{value} (closed)</option>
        ) : null}
        {intervals.map((t) => {
          const { start, gateClosure } = intervalTimes(market, t);
          return (
            <option key={t} value={t}>
              {t} — starts {formatTime(start)}, closes in {formatDuration(gateClosure - now)}
            </option>
          );
        })}
      </select>
    </label>
  );
}
