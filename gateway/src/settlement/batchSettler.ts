import type { Contract } from "ethers";
import type { Logger } from "pino";

import { type MarketTiming, intervalBounds } from "../chain/marketTiming.js";
import { ContractRevertError, type TransactionSender } from "../chain/transactionSender.js";
import type { ClearingStore } from "../market/clearingStore.js";
import { fillsArgument } from "../market/fillsHash.js";
import type { Database } from "../store/database.js";

export interface BatchSettlerOptions {
  db: Database;
  market: Contract;
  timing: MarketTiming;
  clearings: ClearingStore;
  sender: TransactionSender;
  now: () => Promise<bigint>;
  logger: Logger;
}

export interface SettleReport {
  settled: number;
  /** Batches still waiting for a seller's reading (until the settlement deadline). */
  waiting: number;
  failed: number;
}

/** Ledger "not yet" answers: the batch stays pending and is tried again later. */
const WAIT = new Set(["EnergyMarketReadingMissing", "EnergyMarketIntervalNotEnded"]);

/**
 * Settles every submitted clearing batch on chain once its interval has ended: settleBatch with
 * the batch's fills exactly as submitted. A batch whose sellers' readings are not all on the
 * ledger waits (the contract says so with EnergyMarketReadingMissing) until they arrive or the
 * deadline passes, after which missing readings count as zero delivery. Idempotent: a batch
 * already settled (by us before a crash, or by anyone) is recorded as settled.
 */
export class BatchSettler {
  readonly #o: BatchSettlerOptions;

  constructor(options: BatchSettlerOptions) {
    this.#o = options;
  }

  async step(): Promise<SettleReport> {
    const report: SettleReport = { settled: 0, waiting: 0, failed: 0 };
    const now = await this.#o.now();
    const { rows } = await this.#o.db.query<{ interval_index: string; batch: number }>(
      `SELECT s.interval_index, s.batch FROM batch_settlements s
       WHERE s.status IN ('pending', 'submitted') ORDER BY s.interval_index, s.batch`,
    );
    const byInterval = new Map<bigint, number[]>();
    for (const r of rows) {
      const t = BigInt(r.interval_index);
      if (now < intervalBounds(this.#o.timing, t).end) continue;
      byInterval.set(t, [...(byInterval.get(t) ?? []), r.batch]);
    }
    for (const [t, batches] of byInterval) {
      const clearing = await this.#o.clearings.get(t);
      if (clearing === undefined) continue;
      for (const b of batches) {
        const fills = clearing.batches[b]?.fills;
        if (fills === undefined) continue;
        await this.#settle(t, b, fills, report);
      }
    }
    return report;
  }

  async #settle(t: bigint, b: number, fills: Parameters<typeof fillsArgument>[0], report: SettleReport) {
    const label = `settleBatch(${t}, ${b})`;
    try {
      const receipt = await this.#o.sender.send(
        this.#o.market,
        "settleBatch",
        [t, b, fillsArgument(fills)],
        label,
      );
      await this.#record(t, b, "settled", receipt.hash, null);
      report.settled++;
      this.#o.logger.info({ interval: t.toString(), batch: b, tx: receipt.hash }, "batch settled");
    } catch (e) {
      if (e instanceof ContractRevertError && e.errorName === "EnergyMarketBatchAlreadySettled") {
        await this.#record(t, b, "settled", null, null);
        report.settled++;
      } else if (e instanceof ContractRevertError && WAIT.has(e.errorName)) {
        await this.#record(t, b, "pending", null, e.message);
        report.waiting++;
      } else if (e instanceof ContractRevertError) {
        // Unknown batch or mismatched fills: our record disagrees with the chain; an operator must look.
        await this.#record(t, b, "failed", null, e.message);
        report.failed++;
        this.#o.logger.error(
          { interval: t.toString(), batch: b, reason: e.message },
          "batch cannot be settled",
        );
      } else {
        await this.#record(t, b, "pending", null, (e as Error).message);
        report.failed++;
        this.#o.logger.warn(
          { interval: t.toString(), batch: b, err: e },
          "settling batch failed; will retry",
        );
      }
    }
  }

  async #record(
    t: bigint,
    b: number,
    status: string,
    tx: string | null,
    error: string | null,
  ): Promise<void> {
    await this.#o.db.query(
      `UPDATE batch_settlements
       SET status = $3, tx_hash = COALESCE($4, tx_hash), attempts = attempts + 1, last_error = $5, updated_at = now()
       WHERE interval_index = $1 AND batch = $2`,
      [t, b, status, tx?.toLowerCase() ?? null, error],
    );
  }
}
