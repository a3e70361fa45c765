import type { Signer } from "ethers";

import {
  type Address,
  type BatteryReport,
  type BatteryState,
  batteryReportTypes,
  gatewayDomain,
  mutableTypes,
  type SignedBatteryReport,
} from "@gridmesh/contracts";

import type { Logger } from "../common/logger.js";
import type { AgentClock } from "../readings/clock.js";

export interface BatteryReporterOptions {
  /** The gateway's endpoint, e.g. `http://gateway:8080/v1/battery-reports`. */
  url: string;
  /** The meter's key: the gateway keeps only reports the meter signed. */
  signer: Signer;
  meter: Address;
  chainId: bigint;
  clock: AgentClock;
  states: () => Promise<BatteryState[]>;
  log: Logger;
  timeoutMs?: number;
}

const types = mutableTypes(batteryReportTypes);

/**
 * Tells the gateway how the home's batteries stand, so that their owner sees charge and partitions
 * in the web app. A report is a snapshot, not a record: one that cannot be delivered is dropped and
 * the next one replaces it, so nothing is queued (readings are what must never be lost).
 */
export class BatteryReporter {
  readonly #o: BatteryReporterOptions;
  #inFlight: Promise<void> | undefined;
  #failing = false;

  constructor(options: BatteryReporterOptions) {
    this.#o = options;
  }

  /** Sends one report unless one is still on its way (a slow gateway gets no pile-up). */
  report(): Promise<void> {
    this.#inFlight ??= this.#send().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  /** Waits for the report on its way, if any. */
  async settle(): Promise<void> {
    await this.#inFlight;
  }

  async #send(): Promise<void> {
    const { url, log } = this.#o;
    try {
      const signed = await this.sign(await this.#o.states());
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(signed),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
      });
      if (!response.ok) {
        const text = (await response.text().catch(() => "")).slice(0, 300);
        throw new Error(`gateway answered ${response.status}: ${text}`);
      }
      if (this.#failing) log.info({ url }, "battery reports delivered again");
      this.#failing = false;
    } catch (err) {
      // Once per outage at warn: a gateway down for hours would otherwise fill the log.
      if (!this.#failing) log.warn({ err, url }, "battery report not delivered; the next one replaces it");
      else log.debug({ err, url }, "battery report not delivered");
      this.#failing = true;
    }
  }

  async sign(batteries: BatteryState[]): Promise<SignedBatteryReport> {
    const report: BatteryReport = {
      meter: this.#o.meter,
      takenAt: Math.floor(this.#o.clock.now() / 1000),
      batteries,
    };
    const signature = (await this.#o.signer.signTypedData(
      gatewayDomain(this.#o.chainId),
      types,
      report,
    )) as SignedBatteryReport["signature"];
    return { report, signature };
  }
}
