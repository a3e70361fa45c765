import { z } from "zod";

import {
  DATA_INTERVAL_DEFAULT_SECONDS,
  DATA_INTERVAL_MAX_SECONDS,
  DATA_INTERVAL_MIN_SECONDS,
  meterCommandParams,
  type MeterCommandParams,
} from "@gridmesh/contracts";

import type { ControllerStore } from "./controllerStore.js";

export type BillingRates = MeterCommandParams<"put_billing_rates">;

/** Months of billing rates kept (and re-sent to meters that lack them), as the agents keep them. */
export const BILLING_MONTHS_KEPT = 13;

const intervalSchema = z.int().min(DATA_INTERVAL_MIN_SECONDS).max(DATA_INTERVAL_MAX_SECONDS);
const ratesSchema = z.array(meterCommandParams.put_billing_rates);
const fractionSchema = z.number().min(0).max(1);

/**
 * The controller's variables (seed 000 Table 1's Data_Time_Interval, and what the utility sets),
 * read from and written to the controller database on every use: no copy can disagree with what a
 * rolled-back transaction left, and a restarted controller acts as it did before.
 */
export class ControllerSettings {
  readonly #store: ControllerStore;

  /**
   * `configuredIntervalSeconds` is the configuration file's data interval. The latest decision
   * wins: the utility's setting survives restarts, unless the operator has changed the file since.
   */
  constructor(store: ControllerStore, configuredIntervalSeconds: number) {
    this.#store = store;
    if (store.variable("configuredDataIntervalSeconds", intervalSchema, 0) !== configuredIntervalSeconds) {
      store.transaction(() => {
        store.setVariable("configuredDataIntervalSeconds", configuredIntervalSeconds);
        store.setVariable("dataIntervalSeconds", configuredIntervalSeconds);
      });
    }
  }

  get dataIntervalSeconds(): number {
    return this.#store.variable("dataIntervalSeconds", intervalSchema, DATA_INTERVAL_DEFAULT_SECONDS);
  }

  set dataIntervalSeconds(seconds: number) {
    this.#store.setVariable("dataIntervalSeconds", intervalSchema.parse(seconds));
  }

  /** The utility asked the meters to reduce demand. */
  get utilityDemandReduction(): boolean {
    return this.#store.variable("utilityDemandReduction", z.boolean(), false);
  }

  set utilityDemandReduction(on: boolean) {
    this.#store.setVariable("utilityDemandReduction", on);
  }

  /** The controller asked the meters to reduce demand because the utility is offline. */
  get offlineDemandReduction(): boolean {
    return this.#store.variable("offlineDemandReduction", z.boolean(), false);
  }

  set offlineDemandReduction(on: boolean) {
    this.#store.setVariable("offlineDemandReduction", on);
  }

  /**
   * Meters reduce demand while either reason holds. Kept apart so that the utility coming back does
   * not lift a reduction it asked for itself.
   */
  get demandReduction(): boolean {
    return this.utilityDemandReduction || this.offlineDemandReduction;
  }

  /** The share of its normal grid feed the utility routes to this microgrid (supply priorities). */
  get gridSupplyFraction(): number {
    return this.#store.variable("gridSupplyFraction", fractionSchema, 1);
  }

  set gridSupplyFraction(fraction: number) {
    this.#store.setVariable("gridSupplyFraction", fractionSchema.parse(fraction));
  }

  /** Billing rates held, oldest month first. */
  get billingRates(): BillingRates[] {
    return this.#store.variable("billingRates", ratesSchema, []);
  }

  /** Adds or replaces (the utility may correct them) one month's rates, keeping the newest months. */
  putBillingRates(rates: BillingRates): void {
    const months = this.billingRates.filter((r) => r.month !== rates.month);
    months.push(rates);
    months.sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
    this.#store.setVariable("billingRates", months.slice(-BILLING_MONTHS_KEPT));
  }
}
