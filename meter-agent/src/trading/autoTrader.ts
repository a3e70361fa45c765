import type { BaseWallet } from "ethers";

import type { Address, Hex } from "@gridmesh/contracts";

import type { Battery } from "../bal/battery.js";
import type { Logger } from "../common/logger.js";
import { Mutex } from "../common/mutex.js";
import { type AgentClock, atClockTime } from "../readings/clock.js";
import type { ReadingStore } from "../store/readingStore.js";
import type { TradeSide } from "../store/tradeOrders.js";
import { decideOrder, type SkipReason } from "./decideOrder.js";
import { type Forecast, forecastNetWh } from "./forecast.js";
import { MarketReader } from "./marketReader.js";
import { OrderSender } from "./orderSender.js";

export interface AutoTraderOptions {
  store: ReadingStore;
  /** The meter's key, connected to the market's chain. Never the owner's: the owner delegates. */
  wallet: BaseWallet;
  market: Address;
  owner: Address;
  /** The agent's clock: the readings' intervals, and when to run. */
  clock: AgentClock;
  /** Length of one reading's interval (the agent's `intervalSeconds`). */
  readingSeconds: number;
  log: Logger;
  battery?: Battery;
  intervalsAhead?: number;
  lookbackIntervals?: number;
  minOrderWh?: number;
  confirmations?: number;
  timeoutMs?: number;
  /** After a failed run, when to try again (wall-clock ms), within the interval. Default 5 s. */
  retryMs?: number;
  /** Shared with the chain uplink when both send the meter's transactions. */
  transactions?: Mutex;
}

/** The trader's tunables when not given: also the agent configuration's defaults. */
export const AUTO_TRADER_DEFAULTS = {
  intervalsAhead: 1,
  lookbackIntervals: 4,
  minOrderWh: 10,
  confirmations: 1,
  timeoutMs: 60_000,
  retryMs: 5_000,
} as const;

export type TradeOutcome =
  | {
      kind: "placed";
      interval: bigint;
      side: TradeSide;
      wh: bigint;
      pricePerKwh: bigint;
      orderId: bigint;
      txHash: Hex;
      clippedFromWh?: bigint;
    }
  /** An order's transaction is out and not yet mined: the next run looks it up, never sends anew. */
  | { kind: "waiting"; interval: bigint; txHash: Hex }
  | {
      kind: "skipped";
      interval: bigint;
      /** Why; "refused" is the market's refusal in a static call, "failed" a transaction with no order. */
      reason: SkipReason | "refused" | "failed";
      message: string;
      forecast?: Forecast;
    };

/** Skips the owner can act on (and should hear about); the others are the normal course. */
const NEEDS_OWNER = new Set<string>([
  "no-delegation",
  "delegation-expired",
  "not-owner",
  "meter-inactive",
  "insufficient-allowance",
  "insufficient-balance",
  "no-gas",
  "refused",
  "failed",
]);

/**
 * Seed 002's transaction matchmaker, run by the home's meter agent for its owner: once per market
 * interval it forecasts the home's net surplus or deficit for a coming interval (forecast.ts) and
 * places one order for it, within the delegation the owner gave this meter's address on the
 * EnergyMarket (decideOrder.ts), as the meter's own transaction (orderSender.ts). The owner's key is
 * never here; deposits come from the owner's allowance to the market, gas from the meter's address.
 *
 * One order per interval, across restarts: an order placed shows on-chain as used delegated volume,
 * and one sent but not yet mined is in the store with its signed transaction. Anything in the way
 * (no or expired delegation, paused market, missing allowance, chain unreachable) is logged and
 * the interval skipped; the agent goes on recording readings regardless.
 */
export class AutoTrader {
  readonly #o: Required<Omit<AutoTraderOptions, "battery">> & Pick<AutoTraderOptions, "battery">;
  readonly #reader: MarketReader;
  readonly #sender: OrderSender;
  readonly #meter: Address;
  #lastOutcome: TradeOutcome | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: AutoTraderOptions) {
    this.#o = { ...AUTO_TRADER_DEFAULTS, transactions: new Mutex(), ...options };
    const provider = options.wallet.provider;
    if (provider === null) throw new TypeError("the meter's wallet needs a provider");
    this.#meter = options.wallet.address as Address;
    this.#reader = new MarketReader({
      provider,
      market: options.market,
      owner: options.owner,
      meter: this.#meter,
    });
    this.#sender = new OrderSender({
      wallet: options.wallet,
      market: options.market,
      trades: options.store.trades,
      transactions: this.#o.transactions,
      confirmations: this.#o.confirmations,
      timeoutMs: this.#o.timeoutMs,
    });
  }

  /** What the last run did. */
  get lastOutcome(): TradeOutcome | undefined {
    return this.#lastOutcome;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#sender.stop();
    this.#wake?.();
    await this.#loop;
  }

  /** One decision for the coming interval, and its order if it places one. Throws when the chain is unreachable. */
  async runOnce(): Promise<TradeOutcome> {
    const { store, market, clock } = this.#o;
    const now = await this.#reader.now(clock.now() / 1000);
    const { interval, gateClosure } = await this.#reader.targetInterval(now, this.#o.intervalsAhead);

    let attempt = store.trades.get(market, interval);
    if (attempt?.status === "sent") {
      const followed = await this.#sender.follow(attempt, now < gateClosure);
      if (followed.kind === "placed") return this.#placedFrom(interval, followed.orderId, followed.txHash);
      if (followed.kind === "waiting") return { kind: "waiting", interval, txHash: followed.txHash };
      attempt = store.trades.get(market, interval);
    }

    const snapshot = await this.#reader.snapshot(interval, gateClosure, now);
    if (attempt?.status === "placed" && snapshot.usedWh === 0n) {
      // The chain has no trace of it (a local chain started afresh under the same addresses).
      this.#o.log.warn(
        { interval: interval.toString(), orderId: attempt.orderId?.toString() },
        "an order recorded as placed is unknown to the market; forgetting it",
      );
      store.trades.forget(attempt);
    }
    const forecast = await this.#forecast();
    const decision = decideOrder(snapshot, forecast, BigInt(this.#o.minOrderWh));
    if (decision.kind === "skip")
      return { kind: "skipped", interval, reason: decision.reason, message: decision.message, forecast };

    const sent = await this.#sender.place({
      interval,
      side: decision.side,
      owner: this.#o.owner,
      meter: this.#meter,
      wh: decision.wh,
      pricePerKwh: decision.pricePerKwh,
    });
    switch (sent.kind) {
      case "placed":
        return {
          ...this.#placedFrom(interval, sent.orderId, sent.txHash),
          ...(decision.clippedFromWh !== undefined && { clippedFromWh: decision.clippedFromWh }),
        };
      case "waiting":
        return { kind: "waiting", interval, txHash: sent.txHash };
      case "refused":
        return {
          kind: "skipped",
          interval,
          reason: "refused",
          message: `the market refused it: ${sent.reason}`,
        };
      case "failed":
        return { kind: "skipped", interval, reason: "failed", message: `no order: ${sent.reason}` };
    }
  }

  #placedFrom(interval: bigint, orderId: bigint, txHash: Hex): Extract<TradeOutcome, { kind: "placed" }> {
    const a = this.#o.store.trades.get(this.#o.market, interval)!;
    return { kind: "placed", interval, side: a.side, wh: a.wh, pricePerKwh: a.pricePerKwh, orderId, txHash };
  }

  async #forecast(): Promise<Forecast> {
    const { store, clock, readingSeconds, lookbackIntervals, battery, log } = this.#o;
    const last = store.last();
    const readings =
      last === undefined
        ? []
        : store.range(last.reading.sequence - BigInt(lookbackIntervals) + 1n, last.reading.sequence);
    let status;
    try {
      status = await battery?.getStatus();
    } catch (err) {
      log.warn({ err }, "battery unreadable; forecasting from the readings alone");
    }
    const schedule = await this.#reader.schedule();
    return forecastNetWh({
      readings: readings.map((r) => r.reading),
      currentInterval: BigInt(Math.floor(clock.now() / 1000 / readingSeconds)),
      lookbackIntervals,
      readingSeconds,
      marketSeconds: schedule.intervalSeconds,
      battery: status,
    });
  }

  async #run(): Promise<void> {
    const { log, clock, retryMs } = this.#o;
    while (this.#running) {
      let again: "next-interval" | "soon" = "next-interval";
      try {
        const outcome = await this.runOnce();
        this.#report(outcome);
        if (outcome.kind === "waiting") again = "soon";
      } catch (err) {
        again = "soon";
        log.warn({ err, retryInMs: retryMs }, "automatic trading could not run; trying again");
      }
      if (!this.#running) break;
      const next = await this.#nextRunMs().catch(() => clock.now() + retryMs);
      await this.#pause(next, again === "soon" ? retryMs : undefined);
    }
  }

  /** A little after the next market interval starts, so that the interval's reading is stored first. */
  async #nextRunMs(): Promise<number> {
    const { intervalSeconds } = await this.#reader.schedule();
    const periodMs = intervalSeconds * 1000;
    return (Math.floor(this.#o.clock.now() / periodMs) + 1) * periodMs + periodMs / 20;
  }

  #pause(atClockMs: number, soonerWallMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let sooner: NodeJS.Timeout | undefined;
      const cancel = atClockTime(this.#o.clock, atClockMs, () => this.#wake?.());
      if (soonerWallMs !== undefined) sooner = setTimeout(() => this.#wake?.(), soonerWallMs);
      this.#wake = () => {
        cancel();
        clearTimeout(sooner);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  #report(outcome: TradeOutcome): void {
    const { log } = this.#o;
    const previous = this.#lastOutcome;
    this.#lastOutcome = outcome;
    const interval = outcome.interval.toString();
    if (outcome.kind === "placed") {
      log.info(
        {
          interval,
          side: outcome.side,
          wh: outcome.wh.toString(),
          pricePerKwh: outcome.pricePerKwh.toString(),
          orderId: outcome.orderId.toString(),
          tx: outcome.txHash,
          ...(outcome.clippedFromWh !== undefined && { forecastWh: outcome.clippedFromWh.toString() }),
        },
        `${outcome.side} placed for the owner`,
      );
    } else if (outcome.kind === "waiting") {
      log.info({ interval, tx: outcome.txHash }, "order sent; waiting for it to be mined");
    } else {
      // The same reason every interval is said once at its level, then quietly.
      const repeated = previous?.kind === "skipped" && previous.reason === outcome.reason;
      const level = repeated ? "debug" : NEEDS_OWNER.has(outcome.reason) ? "warn" : "info";
      log[level](
        {
          interval,
          reason: outcome.reason,
          ...(outcome.forecast?.kind === "forecast" && { forecastWh: outcome.forecast.netWh }),
        },
        `not trading for interval ${interval}: ${outcome.message}`,
      );
    }
  }
}
