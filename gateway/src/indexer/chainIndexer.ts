import type { Logger } from "../common/logger.js";
import type { Database } from "../store/index.js";
import type { ChainEvent } from "./chainEvent.js";
import { ChainIndexerError } from "./chainIndexerError.js";
import {
  type BlockRef,
  clearIndex,
  lockIndex,
  readCheckpoint,
  sameBlock,
  writeCheckpoint,
} from "./checkpoint.js";
import { findCommonAncestor } from "./commonAncestor.js";
import { appendEvents, eventsAfter } from "./eventLog.js";
import { ContractSet, type IndexedContracts, type RawLog } from "./indexedContracts.js";
import { fetchBlock, type IndexerProvider, rpcError } from "./indexerProvider.js";
import { applyEvents, rebuildAll, rebuildTouched } from "./projections/replay.js";

export interface ChainIndexerParameters {
  db: Database;
  /** Any ethers v6 provider without a request cache (see `createIndexerProvider`). */
  provider: IndexerProvider;
  contracts: IndexedContracts;
  logger: Logger;
  /** Blocks kept out of the index below the head; reorgs shallower than this never reach it. */
  confirmations?: number;
  /** The first block to read: the contracts' deployment block. */
  startBlock?: bigint;
  /** Most blocks per eth_getLogs request (and per database transaction). */
  blockRange?: number;
  /** Pause between syncs when polling with `start()`. */
  pollIntervalMs?: number;
  /**
   * Deepest reorg followed block by block, and how many blocks below the checkpoint are
   * remembered for it. A deeper one (or a chain replaced under the index, as when a dev node
   * restarts) makes the indexer start again from `startBlock`.
   */
  reorgDepthLimit?: number;
}

export interface Reorg {
  /** The checkpoint that turned out to be on an abandoned branch. */
  from: bigint;
  /** The block the index went back to: the newest known block still on the chain (−1: none). */
  to: bigint;
  depth: bigint;
  orphanedEvents: number;
}

export interface SyncReport {
  /** The block the index reaches now, or null while nothing is indexed. */
  indexedThrough: bigint | null;
  /** Events newly stored. */
  events: number;
  reorgs: Reorg[];
}

type Step = "caught-up" | "advanced" | "unstable";

interface Polling {
  timer?: NodeJS.Timeout;
  running?: Promise<unknown>;
}

/** Steps in a row in which the chain moved under a range before the indexer gives up for this sync. */
const UNSTABLE_LIMIT = 5;

/**
 * Follows the GridMesh contracts' events into the store (ARCHITECTURE §5.4): chain_events, the
 * projections built from them (see projections/), and checkpoints. Each range of blocks is one
 * database transaction holding its events, the projections' changes and the new checkpoint (block
 * number and hash), so a crash at any point loses and duplicates nothing.
 *
 * Before every range the checkpoint's hash is checked against the chain; if the chain reorganised
 * under it, the index goes back to the newest block it knows that is still on the chain: the
 * orphaned events are deleted, the projection partitions they touched rebuilt from the events that
 * remain, and the new branch is indexed from there.
 */
export class ChainIndexer {
  readonly #db: Database;
  readonly #provider: IndexerProvider;
  readonly #contracts: ContractSet;
  readonly #logger: Logger;
  readonly #confirmations: bigint;
  readonly #startBlock: bigint;
  readonly #blockRange: bigint;
  readonly #pollIntervalMs: number;
  readonly #reorgDepthLimit: number;
  /** Syncs run one after another, whoever starts them. */
  #queue: Promise<unknown> = Promise.resolve();
  #polling: Polling | undefined;

  constructor({
    db,
    provider,
    contracts,
    logger,
    confirmations = 0,
    startBlock = 0n,
    blockRange = 2_000,
    pollIntervalMs = 1_000,
    reorgDepthLimit = 1_000,
  }: ChainIndexerParameters) {
    for (const [name, value, min] of [
      ["confirmations", confirmations, 0],
      ["blockRange", blockRange, 1],
      ["pollIntervalMs", pollIntervalMs, 1],
      ["reorgDepthLimit", reorgDepthLimit, Math.max(1, confirmations)],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new ChainIndexerError(`${name} must be a whole number ≥ ${min}, got ${value}`);
      }
    }
    if (startBlock < 0n) throw new ChainIndexerError(`startBlock must be ≥ 0, got ${startBlock}`);
    this.#db = db;
    this.#provider = provider;
    this.#contracts = new ContractSet(contracts);
    this.#logger = logger.child({ component: "indexer" });
    this.#confirmations = BigInt(confirmations);
    this.#startBlock = startBlock;
    this.#blockRange = BigInt(blockRange);
    this.#pollIntervalMs = pollIntervalMs;
    this.#reorgDepthLimit = reorgDepthLimit;
  }

  /** Indexes up to `head − confirmations` as the chain stands now, following any reorg on the way. */
  syncOnce(): Promise<SyncReport> {
    const run = this.#queue.then(() => this.#sync());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Syncs every `pollIntervalMs` until `stop()`; a failed sync is logged and tried again. */
  start(): void {
    if (this.#polling !== undefined) return;
    const polling: Polling = {};
    this.#polling = polling;
    const tick = () => {
      polling.running = this.syncOnce()
        .catch((error: unknown) => this.#logger.warn({ err: error }, "chain index sync failed; retrying"))
        .finally(() => {
          if (this.#polling === polling) polling.timer = setTimeout(tick, this.#pollIntervalMs);
        });
    };
    tick();
  }

  /** Stops polling and waits for a sync under way to end. */
  async stop(): Promise<void> {
    const polling = this.#polling;
    this.#polling = undefined;
    if (polling === undefined) return;
    clearTimeout(polling.timer);
    await polling.running;
  }

  /** Replays chain_events into freshly emptied projections (see `rebuildProjections`). */
  rebuildProjections(): Promise<void> {
    const run = this.#queue.then(() => rebuildProjections(this.#db));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #sync(): Promise<SyncReport> {
    const report: SyncReport = { indexedThrough: null, events: 0, reorgs: [] };
    let unstable = 0;
    for (;;) {
      const step = await this.#step(report);
      if (step === "caught-up") break;
      if (step === "unstable" && ++unstable >= UNSTABLE_LIMIT) {
        throw new ChainIndexerError(`the chain changed under ${UNSTABLE_LIMIT} ranges in a row`, {
          retryable: true,
        });
      }
    }
    const checkpoint = await readCheckpoint(this.#db, this.#contracts);
    report.indexedThrough = checkpoint === null || checkpoint === "changed" ? null : checkpoint.number;
    return report;
  }

  async #step(report: SyncReport): Promise<Step> {
    const head = await this.#head();
    const checkpoint = await readCheckpoint(this.#db, this.#contracts);
    if (checkpoint === "changed") {
      await this.#restart(checkpoint, "the followed contracts changed");
      return "advanced";
    }
    if (checkpoint !== null) {
      const onChain = checkpoint.number <= head ? await fetchBlock(this.#provider, checkpoint.number) : null;
      if (onChain?.hash !== checkpoint.hash) {
        await this.#rollBack(checkpoint, head, report);
        return "advanced";
      }
    }

    const target = head - this.#confirmations;
    const from = checkpoint === null ? this.#startBlock : checkpoint.number + 1n;
    if (from > target) return "caught-up";
    const to = from + this.#blockRange - 1n < target ? from + this.#blockRange - 1n : target;
    const range = await this.#readRange(checkpoint, from, to);
    if (range === undefined) return "unstable";

    const added = await this.#db.transaction(async (tx) => {
      await lockIndex(tx);
      // Another indexer on this database may have stored the range meanwhile.
      if (!sameBlock(await readCheckpoint(tx, this.#contracts), checkpoint)) return undefined;
      const fresh = await appendEvents(tx, range.events);
      await applyEvents(tx, fresh);
      await writeCheckpoint(tx, this.#contracts, range.end, this.#reorgDepthLimit);
      return fresh.length;
    });
    if (added === undefined) return "advanced";
    report.events += added;
    if (added > 0)
      this.#logger.debug({ from: String(from), to: String(to), events: added }, "indexed blocks");
    return to === target ? "caught-up" : "advanced";
  }

  /**
   * The logs of blocks `from`..`to` with the header of `to`, or undefined if the chain changed
   * while they were read. Rechecking the checkpoint and `to` after eth_getLogs proves the logs come
   * from one branch that continues the index: both blocks are on the chain, so `to` descends from
   * the checkpoint, and a reorg in between would have changed `to`'s hash.
   */
  async #readRange(
    checkpoint: BlockRef | null,
    from: bigint,
    to: bigint,
  ): Promise<{ end: BlockRef; events: ChainEvent[] } | undefined> {
    const end = await fetchBlock(this.#provider, to);
    if (end === null) return undefined;
    let logs: readonly RawLog[];
    try {
      logs = await this.#provider.getLogs({
        address: this.#contracts.addresses,
        fromBlock: Number(from),
        toBlock: Number(to),
      });
    } catch (error) {
      throw rpcError(`eth_getLogs for blocks ${from}..${to}`, error);
    }
    const [checkpointNow, endNow] = await Promise.all([
      checkpoint === null ? null : fetchBlock(this.#provider, checkpoint.number),
      fetchBlock(this.#provider, to),
    ]);
    if (endNow?.hash !== end.hash || (checkpoint !== null && checkpointNow?.hash !== checkpoint.hash)) {
      return undefined;
    }
    const consistent = logs.every(
      (log) =>
        !log.removed &&
        log.blockNumber >= from &&
        log.blockNumber <= to &&
        (BigInt(log.blockNumber) !== to || log.blockHash.toLowerCase() === end.hash),
    );
    if (!consistent) return undefined;
    const ordered = [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const events = ordered.map((log) => this.#contracts.decode(log)).filter((e) => e !== undefined);
    return { end, events };
  }

  async #rollBack(checkpoint: BlockRef, head: bigint, report: SyncReport): Promise<void> {
    const ancestor = await findCommonAncestor(
      this.#db,
      this.#provider,
      checkpoint,
      head,
      this.#reorgDepthLimit,
    );
    if (ancestor === null) {
      const orphaned = await this.#restart(
        checkpoint,
        `no block of the index within ${this.#reorgDepthLimit} blocks is on the chain`,
      );
      report.reorgs.push({
        from: checkpoint.number,
        to: -1n,
        depth: checkpoint.number + 1n,
        orphanedEvents: orphaned,
      });
      return;
    }
    const orphaned = await this.#db.transaction(async (tx) => {
      await lockIndex(tx);
      if (!sameBlock(await readCheckpoint(tx, this.#contracts), checkpoint)) return undefined;
      const events = await eventsAfter(tx, ancestor.number);
      await rebuildTouched(tx, events, async () => {
        await tx.query("DELETE FROM chain_events WHERE block_number > $1", [ancestor.number]);
        await tx.query("DELETE FROM indexed_blocks WHERE block_number > $1", [ancestor.number]);
      });
      await writeCheckpoint(tx, this.#contracts, ancestor, this.#reorgDepthLimit);
      return events.length;
    });
    if (orphaned === undefined) return;
    const reorg = {
      from: checkpoint.number,
      to: ancestor.number,
      depth: checkpoint.number - ancestor.number,
    };
    report.reorgs.push({ ...reorg, orphanedEvents: orphaned });
    this.#logger.warn(
      {
        from: String(reorg.from),
        to: String(reorg.to),
        depth: Number(reorg.depth),
        orphanedEvents: orphaned,
      },
      "chain reorganised under the index; rolled back",
    );
  }

  /** Drops the whole index and starts again from `startBlock`; returns how many events it dropped. */
  async #restart(checkpoint: BlockRef | "changed", reason: string): Promise<number> {
    const dropped = await this.#db.transaction(async (tx) => {
      await lockIndex(tx);
      const events = await clearIndex(tx);
      await rebuildAll(tx);
      return events;
    });
    this.#logger.error(
      {
        reason,
        checkpoint: checkpoint === "changed" ? undefined : String(checkpoint.number),
        startBlock: String(this.#startBlock),
      },
      "chain index discarded; indexing again from the start block",
    );
    return dropped;
  }

  async #head(): Promise<bigint> {
    try {
      return BigInt(await this.#provider.getBlockNumber());
    } catch (error) {
      throw rpcError("reading the head block number", error);
    }
  }
}

/**
 * Empties every projection and replays chain_events into them, in one transaction: the rows come
 * out as incremental indexing made them, since both run the same code over the same events.
 */
export async function rebuildProjections(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await lockIndex(tx);
    await rebuildAll(tx);
  });
}
