import type { Contract } from "ethers";
import type { Logger } from "pino";

import { type MarketTiming, intervalOf } from "../chain/marketTiming.js";
import { ContractRevertError, type TransactionSender } from "../chain/transactionSender.js";

export interface DeliverySchedulerOptions {
  /** ForwardMarket or OptionMarket (both ScheduledDelivery), connected to the gateway's signer. */
  market: Contract;
  /** For logs: "forward" or "option". */
  kind: string;
  timing: MarketTiming;
  sender: TransactionSender;
  now: () => Promise<bigint>;
  logger: Logger;
}

interface ScheduleView {
  firstInterval: bigint;
  lastInterval: bigint;
  status: bigint;
}

const ACTIVE = 2n; // ScheduledDelivery.Status.Active
const SETTLED = 2n;
const WAIT = new Set([
  "ScheduledDeliveryReadingMissing",
  "ScheduledDeliveryIndexMissing",
  "ScheduledDeliveryIntervalNotEnded",
]);

export interface DeliveryReport {
  committed: number;
  settled: number;
  waiting: number;
  failed: number;
}

/**
 * Keeps forwards and exercised options moving (ScheduledDelivery): commits the coming interval of
 * every active schedule before it starts — an interval nobody commits is void — and settles each
 * ended interval once the seller's reading (and the index value, for formula prices) is in, or
 * at the readings deadline without them. Anyone may do both; the gateway does it so no one has to
 * remember. Schedules are found by id on chain; closed ones are not looked at again.
 */
export class DeliveryScheduler {
  readonly #o: DeliverySchedulerOptions;
  /** Schedules known to be closed or never to need us again. */
  readonly #done = new Set<bigint>();
  /** Per schedule, the first interval not yet known to be settled. */
  readonly #settledUpTo = new Map<bigint, bigint>();

  constructor(options: DeliverySchedulerOptions) {
    this.#o = options;
  }

  async step(): Promise<DeliveryReport> {
    const report: DeliveryReport = { committed: 0, settled: 0, waiting: 0, failed: 0 };
    const now = await this.#o.now();
    const current = intervalOf(this.#o.timing, now);
    const next = current + 1n;
    const nextId = (await this.#o.market.getFunction("nextId")()) as bigint;
    const toCommit: bigint[] = [];
    for (let id = 1n; id < nextId; id++) {
      if (this.#done.has(id)) continue;
      const s = (await this.#o.market.getFunction("getSchedule")(id)) as ScheduleView;
      if (s.status > ACTIVE) {
        this.#done.add(id);
        continue;
      }
      if (s.status !== ACTIVE) continue;
      if (next >= s.firstInterval && next <= s.lastInterval) {
        const state = (await this.#o.market.getFunction("intervalState")(id, next)) as bigint;
        if (state === 0n) toCommit.push(id);
      }
      await this.#settleEnded(id, s, current, report);
    }
    if (toCommit.length > 0) await this.#commit(toCommit, next, report);
    return report;
  }

  async #commit(ids: bigint[], t: bigint, report: DeliveryReport) {
    try {
      await this.#o.sender.send(
        this.#o.market,
        "commitDeliveries",
        [ids, t],
        `${this.#o.kind} commitDeliveries(${t})`,
      );
      report.committed += ids.length;
    } catch (e) {
      report.failed++;
      this.#o.logger.warn(
        { kind: this.#o.kind, interval: t.toString(), ids: ids.map(String), err: e },
        "commit failed",
      );
    }
  }

  /** Settles the schedule's intervals that ended before `current`, oldest first. */
  async #settleEnded(id: bigint, s: ScheduleView, current: bigint, report: DeliveryReport) {
    let from = this.#settledUpTo.get(id) ?? s.firstInterval;
    const last = s.lastInterval < current ? s.lastInterval : current - 1n;
    const intervals: bigint[] = [];
    for (let t = from; t <= last; t++) {
      const state = (await this.#o.market.getFunction("intervalState")(id, t)) as bigint;
      if (state === SETTLED && intervals.length === 0) from = t + 1n;
      else if (state !== SETTLED) intervals.push(t);
    }
    this.#settledUpTo.set(id, from);
    while (intervals.length > 0) {
      try {
        await this.#o.sender.send(
          this.#o.market,
          "settleDeliveries",
          [id, intervals],
          `${this.#o.kind} settleDeliveries(${id})`,
        );
        report.settled += intervals.length;
        this.#settledUpTo.set(id, intervals.at(-1)! + 1n);
        if (intervals.at(-1) === s.lastInterval) this.#done.add(id);
        return;
      } catch (e) {
        if (e instanceof ContractRevertError && WAIT.has(e.errorName)) {
          // The named interval is not ready; the ones before it may be.
          const blocked = e.args.find((a): a is bigint => typeof a === "bigint" && intervals.includes(a));
          const cut = blocked === undefined ? 0 : intervals.indexOf(blocked);
          report.waiting++;
          intervals.splice(cut);
          continue;
        }
        report.failed++;
        this.#o.logger.warn({ kind: this.#o.kind, id: id.toString(), err: e }, "settling deliveries failed");
        return;
      }
    }
  }
}
