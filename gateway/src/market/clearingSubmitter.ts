import type { Contract } from "ethers";
import type { Logger } from "pino";

import { type ClearingBid, type ClearingOffer, batchFills, computeClearing } from "@gridmesh/contracts";

import { type MarketTiming, intervalBounds } from "../chain/marketTiming.js";
import { ContractRevertError, type TransactionSender } from "../chain/transactionSender.js";
import { type ClearingStore, type StoredClearing } from "./clearingStore.js";
import { fillsArgument, fillsHash } from "./fillsHash.js";

/** An interval's open orders as indexed, and how far the index reaches. */
export interface IndexedBook {
  offers: ClearingOffer[];
  bids: ClearingBid[];
  indexedThrough: { block: bigint; timestamp: bigint };
}

export interface ClearingSubmitterOptions {
  market: Contract;
  timing: MarketTiming;
  store: ClearingStore;
  sender: TransactionSender;
  loadBook: (interval: bigint) => Promise<IndexedBook>;
  /** The chain's head block: a book indexed up to the head is complete once gate closure has passed. */
  head: () => Promise<{ number: bigint; timestamp: bigint }>;
  /** Unix seconds now, by the clock the chain's blocks follow. */
  now: () => Promise<bigint>;
  batchSize: number;
  logger: Logger;
}

export type ClearingStep = "not-yet" | "waiting-for-index" | "empty" | "finalized" | "too-late" | "failed";

/**
 * Clears each interval once its gate has closed and submits the result before it starts: the book
 * comes from the chain index, the clearing from the one shared algorithm, and the result is stored
 * before anything is sent. Submission is idempotent by position: the contract counts the batches
 * it holds, so after a crash or a lost receipt the next run sends exactly the batches still
 * missing, after checking that the ones present are ours (same fills hash).
 */
export class ClearingSubmitter {
  readonly #o: ClearingSubmitterOptions;

  constructor(options: ClearingSubmitterOptions) {
    this.#o = options;
  }

  /** Advances interval `t`'s clearing as far as it can go now. Safe to call any number of times. */
  async step(t: bigint): Promise<ClearingStep> {
    const { gateClosure, start } = intervalBounds(this.#o.timing, t);
    const now = await this.#o.now();
    let clearing = await this.#o.store.get(t);
    if (clearing === undefined) {
      if (now < gateClosure) return "not-yet";
      if (now >= start) return "too-late";
      const computed = await this.#compute(t, gateClosure);
      if (computed === undefined) return "waiting-for-index";
      clearing = computed;
    }
    switch (clearing.status) {
      case "empty":
      case "finalized":
      case "failed":
        return clearing.status;
      case "computed":
      case "submitting":
        return this.#submit(clearing, start);
    }
  }

  async #compute(t: bigint, gateClosure: bigint): Promise<StoredClearing | undefined> {
    const book = await this.#o.loadBook(t);
    // Orders are refused from gate closure on, so the book is whole once the index holds a block
    // at or past it, or holds the head while the clock is past it (no later block can add orders).
    if (book.indexedThrough.timestamp < gateClosure) {
      const head = await this.#o.head();
      if (head.number !== book.indexedThrough.block) return undefined;
    }
    const result = computeClearing({ offers: book.offers, bids: book.bids });
    const batches = batchFills(result.fills, this.#o.batchSize).map((fills) => ({
      fills,
      fillsHash: fillsHash(fills),
    }));
    const stored = await this.#o.store.insert(t, result.price, result.volumeWh, batches);
    this.#o.logger.info(
      {
        interval: t.toString(),
        offers: book.offers.length,
        bids: book.bids.length,
        price: result.price.toString(),
        volumeWh: result.volumeWh.toString(),
        batches: batches.length,
      },
      "clearing computed",
    );
    return stored;
  }

  async #submit(clearing: StoredClearing, start: bigint): Promise<ClearingStep> {
    const t = clearing.interval;
    const onChain = (await this.#o.market.getFunction("getClearing")(t)) as {
      price: bigint;
      batches: bigint;
      finalized: boolean;
    };
    const present = Number(onChain.batches);
    for (let b = 0; b < Math.min(present, clearing.batches.length); b++) {
      const hash = (await this.#o.market.getFunction("batchHash")(t, b)) as string;
      if (hash !== clearing.batches[b]!.fillsHash && BigInt(hash) !== 1n) {
        return this.#fail(
          t,
          `batch ${b} on chain is not ours (hash ${hash}, ours ${clearing.batches[b]!.fillsHash})`,
        );
      }
      if (clearing.batches[b]!.status !== "confirmed") await this.#o.store.markBatchConfirmed(t, b, null);
    }
    if (onChain.finalized) {
      if (present !== clearing.batches.length) {
        return this.#fail(
          t,
          `finalized on chain with ${present} batches, ours has ${clearing.batches.length}`,
        );
      }
      await this.#o.store.setStatus(t, "finalized");
      return "finalized";
    }
    await this.#o.store.setStatus(t, "submitting");
    for (let b = present; b < clearing.batches.length; b++) {
      if ((await this.#o.now()) >= start)
        return this.#fail(t, `interval started with ${b} of ${clearing.batches.length} batches submitted`);
      const batch = clearing.batches[b]!;
      const isFinal = b === clearing.batches.length - 1;
      try {
        const receipt = await this.#o.sender.send(
          this.#o.market,
          "submitClearing",
          [t, clearing.price, fillsArgument(batch.fills), isFinal],
          `submitClearing(${t}, batch ${b})`,
        );
        await this.#o.store.markBatchConfirmed(t, b, receipt.hash);
        if (isFinal) await this.#o.store.setStatus(t, "finalized", receipt.hash);
      } catch (e) {
        // A refusal other than timing means the stored clearing no longer fits the chain (a reorg
        // changed the book, or the matcher role was taken away): retrying the same fills cannot help.
        if (e instanceof ContractRevertError && e.errorName !== "EnergyMarketGateOpen")
          return this.#fail(t, e.message);
        throw e;
      }
    }
    this.#o.logger.info({ interval: t.toString(), batches: clearing.batches.length }, "clearing finalized");
    return "finalized";
  }

  async #fail(t: bigint, reason: string): Promise<ClearingStep> {
    await this.#o.store.setStatus(t, "failed");
    this.#o.logger.error({ interval: t.toString(), reason }, "clearing failed");
    return "failed";
  }
}
