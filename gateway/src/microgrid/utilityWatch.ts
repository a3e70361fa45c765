import type { Logger } from "pino";

import type { Clock } from "@gridmesh/contracts";

import { PeriodicTask } from "./periodicTask.js";

export interface UtilityWatchOptions {
  healthUrl: string;
  /** Controller-clock ms between probes. */
  checkEveryMs: number;
  /** Controller-clock ms without contact after which the utility counts as offline. */
  offlineAfterMs: number;
  /** Wall-clock bound on one probe. */
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  /** The utility was offline when the controller last stopped: it stays so until it answers. */
  offlineAtStart: boolean;
  /** Called when the utility goes offline (true) or comes back (false). */
  onOfflineChange: (offline: boolean) => void;
  signal?: AbortSignal;
}

/**
 * Whether the central utility is running (seed 000 §2.1.2: demand reduction while it is offline).
 * It is probed every `checkEveryMs` at its health URL; any authenticated request from it counts as
 * contact too. It goes offline after `offlineAfterMs` without contact, not at the first failed probe,
 * so one lost packet does not make a whole microgrid cut its demand.
 */
export class UtilityWatch {
  readonly #o: UtilityWatchOptions;
  readonly #task: PeriodicTask;
  #lastContactMs: number;
  #reachable = true;
  #offline: boolean;

  constructor(options: UtilityWatchOptions) {
    this.#o = options;
    this.#lastContactMs = options.clock.now();
    this.#offline = options.offlineAtStart;
    this.#task = new PeriodicTask(
      "utility health probe",
      options.clock,
      () => options.checkEveryMs,
      () => this.probe(),
      options.logger,
    );
  }

  /** The last probe or request reached the utility. */
  get reachable(): boolean {
    return this.#reachable;
  }

  /** The utility has been out of reach for `offlineAfterMs`. */
  get offline(): boolean {
    return this.#offline;
  }

  start(): void {
    this.#task.start();
  }

  stop(): Promise<void> {
    return this.#task.stop();
  }

  /** The utility reached the controller (an authenticated request) or answered a probe. */
  contact(): void {
    this.#lastContactMs = this.#o.clock.now();
    this.#reachable = true;
    if (this.#offline) {
      this.#offline = false;
      this.#o.logger.info("the utility is reachable again");
      this.#o.onOfflineChange(false);
    }
  }

  /** One probe of the health URL; returns whether it answered 2xx. */
  async probe(): Promise<boolean> {
    const { healthUrl, timeoutMs, signal } = this.#o;
    let ok = false;
    let problem: string;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const res = await fetch(healthUrl, {
        signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
      });
      await res.body?.cancel();
      ok = res.ok;
      problem = `answered ${res.status}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (signal?.aborted) return ok;
    if (ok) {
      this.contact();
      return true;
    }
    if (this.#reachable) this.#o.logger.warn({ healthUrl, problem }, "the utility's health probe failed");
    this.#reachable = false;
    const { clock, offlineAfterMs, logger, onOfflineChange } = this.#o;
    if (!this.#offline && clock.now() - this.#lastContactMs >= offlineAfterMs) {
      this.#offline = true;
      logger.warn({ healthUrl, offlineAfterMs }, "the utility is offline");
      onOfflineChange(true);
    }
    return false;
  }
}
