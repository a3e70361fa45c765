import { DATA_INTERVAL_DEFAULT_SECONDS } from "@gridmesh/contracts";

import type { Battery } from "../bal/battery.js";
import type { AgentClock } from "../readings/clock.js";
import { batteryPolicy, type BatteryDecision, type BatteryPolicyState } from "./batteryPolicy.js";

/** The two methods of a pino logger the loop uses. */
export interface BatteryPolicyLoopLogger {
  info(context: Record<string, unknown>, msg: string): void;
  warn(context: Record<string, unknown>, msg: string): void;
}

export interface BatteryPolicyLoopOptions {
  battery: Battery;
  /** The meter state now (e.g. `() => readMeterState(store)`); read every time, so commands take effect. */
  state: () => BatteryPolicyState;
  /** The grid meter's net active power now (W, positive importing). */
  netPowerW: () => Promise<number>;
  clock: AgentClock;
  log?: BatteryPolicyLoopLogger;
}

export interface BatteryPolicyLoopStats {
  ticks: number;
  failures: number;
}

/**
 * Applies `batteryPolicy` to the battery once every data interval, and at once after `notify()`
 * (a command changed the state). A failed step (battery or meter unreachable, limits that moved
 * between reading and setting) is logged and tried again next interval; the loop never stops on its
 * own. On `stop()` the battery is set to rest, so an agent that is shutting down does not leave it
 * discharging unattended.
 */
export class BatteryPolicyLoop {
  readonly stats: BatteryPolicyLoopStats = { ticks: 0, failures: 0 };
  lastDecision: BatteryDecision | undefined;
  readonly #o: BatteryPolicyLoopOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Set by `notify()` during a step, which may have read the state before it changed. */
  #again = false;
  #intervalSeconds = DATA_INTERVAL_DEFAULT_SECONDS;

  constructor(options: BatteryPolicyLoopOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** The state changed: act now instead of at the end of the interval. */
  notify(): void {
    this.#again = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    try {
      await this.#o.battery.setCurrent(0);
    } catch (error) {
      this.#o.log?.warn(
        { battery: this.#o.battery.name, err: error },
        "could not set the battery to rest on stop",
      );
    }
  }

  /** One step: read the state, battery and meter, decide, set the current. */
  async step(): Promise<BatteryDecision> {
    const { battery } = this.#o;
    const state = this.#o.state();
    this.#intervalSeconds = state.dataIntervalSeconds;
    const status = await battery.getStatus();
    const netPowerW = await this.#o.netPowerW();
    const decision = batteryPolicy(state, status, netPowerW);
    await battery.setCurrent(decision.current);
    if (decision.current !== this.lastDecision?.current || decision.reason !== this.lastDecision.reason) {
      this.#o.log?.info(
        { battery: battery.name, ...decision, netPowerW, stateOfCharge: status.stateOfCharge },
        "battery current set",
      );
    }
    this.lastDecision = decision;
    return decision;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#again = false;
      try {
        await this.step();
      } catch (error) {
        this.stats.failures++;
        this.#o.log?.warn({ battery: this.#o.battery.name, err: error }, "battery policy step failed");
      }
      this.stats.ticks++;
      if (!this.#running || this.#again) continue;
      const { clock } = this.#o;
      await this.#sleep(clock.delayUntil(clock.now() + this.#intervalSeconds * 1000));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.#timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      this.#timer = setTimeout(done, ms);
    });
  }
}
