import type { Queryable } from "../../store/index.js";

/** Peak hours of a day: whole hours [startHour, endHour) in `timeZone`. */
export interface PeakHours {
  startHour: number;
  endHour: number;
  timeZone: string;
  /** Where they came from, for the operator status: a month's billing rates or configuration. */
  source: string;
}

/** The peak hours in force at `atMs`. */
export type PeakHoursSource = (db: Queryable, atMs: number) => Promise<PeakHours>;

/** The month (`YYYY-MM`) and hour of the day at `atMs` in `timeZone`. */
export function localMonthAndHour(atMs: number, timeZone: string): { month: string; hour: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    hour: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(atMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return { month: `${part("year")}-${part("month")}`, hour: Number(part("hour")) };
}

/** Whether `atMs` falls in the peak hours of its day. */
export function isPeakAt(atMs: number, peak: Omit<PeakHours, "source">): boolean {
  const { hour } = localMonthAndHour(atMs, peak.timeZone);
  return hour >= peak.startHour && hour < peak.endHour;
}
