import { z } from "zod";

import {
  DATA_INTERVAL_DEFAULT_SECONDS,
  DATA_INTERVAL_MAX_SECONDS,
  DATA_INTERVAL_MIN_SECONDS,
  type Address,
  type MeterCommandParams,
} from "@gridmesh/contracts";

import type { ReadingStore } from "../store/readingStore.js";
import { StoreError } from "../store/storeErrors.js";

/**
 * What the controller has set on this meter (seed 000 Table 1, Meter_States and
 * Data_Time_Interval), kept in the reading store so that it survives restarts.
 */
export interface MeterState {
  isOn: boolean;
  sharingPower: boolean;
  /** The controller asked for aggregation (seed 000 Initialize_meters sends `aggregate`). */
  aggregating: boolean;
  /** The mode of the last `aggregate`; null before the first. */
  aggregationLossless: boolean | null;
  reducingPowerDemand: boolean;
  /** State-of-charge fraction sharing never discharges below; null until `share_power_on` sets one. */
  batteryThreshold: number | null;
  dataIntervalSeconds: number;
}

export type BillingRates = MeterCommandParams<"put_billing_rates"> & { receivedMs: number };

export const DEFAULT_METER_STATE: Readonly<MeterState> = {
  isOn: true,
  sharingPower: false,
  aggregating: false,
  aggregationLossless: null,
  reducingPowerDemand: false,
  batteryThreshold: null,
  dataIntervalSeconds: DATA_INTERVAL_DEFAULT_SECONDS,
};

/** Months of billing rates kept: a year back is enough to re-bill and bounds the state's size. */
export const BILLING_MONTHS_KEPT = 13;

const STATE_KEY = "controller.meterState";
const RATES_KEY = "controller.billingRates";
const NONCE_PREFIX = "controller.nonce.";

const stateSchema = z.strictObject({
  isOn: z.boolean(),
  sharingPower: z.boolean(),
  aggregating: z.boolean(),
  aggregationLossless: z.boolean().nullable(),
  reducingPowerDemand: z.boolean(),
  batteryThreshold: z.number().min(0).max(1).nullable(),
  dataIntervalSeconds: z.int().min(DATA_INTERVAL_MIN_SECONDS).max(DATA_INTERVAL_MAX_SECONDS),
});

const ratesSchema = z.array(
  z.strictObject({
    month: z.string(),
    peakRate: z.string(),
    offPeakRate: z.string(),
    peakStartHour: z.int(),
    peakEndHour: z.int(),
    receivedMs: z.number(),
  }),
);

/**
 * The stored state over the defaults, so that a field added in a later version starts at its
 * default. A stored value that no longer parses is refused rather than silently reset: a meter that
 * forgot it was told to reduce demand would act against the controller.
 */
export function readMeterState(store: ReadingStore): MeterState {
  const stored = store.getState<Partial<MeterState>>(STATE_KEY);
  const parsed = stateSchema.safeParse({ ...DEFAULT_METER_STATE, ...stored });
  if (!parsed.success) throw new StoreError("the stored meter state is invalid", { cause: parsed.error });
  return parsed.data;
}

export function writeMeterState(store: ReadingStore, state: MeterState): void {
  store.putState(STATE_KEY, state);
}

/** Stored rates, oldest month first. */
export function readBillingRates(store: ReadingStore): BillingRates[] {
  const parsed = ratesSchema.safeParse(store.getState(RATES_KEY) ?? []);
  if (!parsed.success) throw new StoreError("the stored billing rates are invalid", { cause: parsed.error });
  return parsed.data;
}

/** Adds or replaces (the utility may correct) one month's rates, keeping the newest months. */
export function putBillingRates(store: ReadingStore, rates: BillingRates): BillingRates[] {
  const months = readBillingRates(store).filter((r) => r.month !== rates.month);
  months.push(rates);
  months.sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
  const kept = months.slice(-BILLING_MONTHS_KEPT);
  store.putState(RATES_KEY, kept);
  return kept;
}

/** The last nonce accepted from `controller`; 0 before its first command. */
export function readControllerNonce(store: ReadingStore, controller: Address): bigint {
  const stored = store.getState<string>(NONCE_PREFIX + controller.toLowerCase());
  return stored === undefined ? 0n : BigInt(stored);
}

export function writeControllerNonce(store: ReadingStore, controller: Address, nonce: bigint): void {
  // A decimal string: JSON numbers would round nonces above 2^53.
  store.putState(NONCE_PREFIX + controller.toLowerCase(), nonce.toString());
}
