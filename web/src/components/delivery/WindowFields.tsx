"use client";

import { nextOpenInterval, type IntervalSchedule } from "@gridmesh/contracts";
import { useState } from "react";
import type { Address } from "viem";

import type { Device } from "../../lib/gatewayTypes.js";
import { parseUnits } from "../../lib/units.js";
import { MeterSelect } from "./MeterSelect.js";

/** A delivery window as typed: the meter, how many open intervals from now it starts, its length, its energy. */
export interface WindowInput {
  meter: string;
  startIn: string;
  count: string;
  kwh: string;
}

/** The window's form state, starting from `defaults` (no meter chosen: the first active one). */
export function useWindowInput(defaults: Omit<WindowInput, "meter">) {
  return useState<WindowInput>({ meter: "", ...defaults });
}

/** The meter chosen, or the first active one. */
export function chosenMeter(
  input: Pick<WindowInput, "meter">,
  active: readonly Device[],
): Address | undefined {
  return (input.meter || active[0]?.meter) as Address | undefined;
}

/** The window in intervals and Wh; throws with a message for the form when it is not a valid one. */
export function parseWindow(
  input: WindowInput,
  active: readonly Device[],
  market: IntervalSchedule,
  now: number,
): { first: bigint; last: bigint; wh: bigint; meter: Address } {
  const first = BigInt(nextOpenInterval(market, now) + Number(input.startIn));
  const last = first + BigInt(input.count) - 1n;
  const wh = parseUnits(input.kwh, 3);
  if (wh <= 0n || last < first) throw new Error("volume and intervals must be above zero");
  const meter = chosenMeter(input, active);
  if (meter === undefined) throw new Error("you need an active meter");
  return { first, last, wh, meter };
}

/** The fields every delivery contract's form starts with: meter, start, length and energy of its window. */
export function WindowFields({
  active,
  value,
  onChange,
}: {
  active: readonly Device[];
  value: WindowInput;
  onChange: (next: WindowInput) => void;
}) {
  const field = (key: keyof WindowInput) => (e: { target: { value: string } }) =>
    onChange({ ...value, [key]: e.target.value });
  return (
    <>
      <MeterSelect
        meters={active}
        value={chosenMeter(value, active) ?? ""}
        onChange={(meter) => onChange({ ...value, meter })}
      />
      <label>
        Starts after (open intervals from now)
        <input inputMode="numeric" value={value.startIn} onChange={field("startIn")} />
      </label>
      <label>
        Intervals
        <input inputMode="numeric" value={value.count} onChange={field("count")} />
      </label>
      <label>
        Energy per interval (kWh)
        <input inputMode="decimal" value={value.kwh} onChange={field("kwh")} />
      </label>
    </>
  );
}
