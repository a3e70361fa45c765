"use client";

import type { Device } from "../../lib/gatewayTypes.js";

/** The user's active meters; the first one when nothing is chosen yet. */
export function MeterSelect({
  meters,
  value,
  onChange,
  name,
}: {
  meters: readonly Device[];
  value: string;
  onChange: (meter: string) => void;
  name?: string;
}) {
  return (
    <label>
      Meter
      <select value={value} onChange={(e) => onChange(e.target.value)} name={name}>
        {meters.map((m) => (
          <option key={m.meter} value={m.meter}>
            {m.meter}
          </option>
        ))}
      </select>
    </label>
  );
}
