import { createHash, randomBytes } from "node:crypto";
import { EventEmitter, on } from "node:events";

import type { Contract } from "fabric-contract-api";

import { canonicalJson } from "../marshal.js";
import { SecureId } from "../contract/secureIdContract.js";
import { ChaincodeRunner, type Proposal, type SimulationSuccess } from "../stub/chaincodeRunner.js";
import { MemoryBackend } from "../stub/memoryBackend.js";
import { SqliteBackend } from "../stub/sqliteBackend.js";
import { DuplicateTransactionError, type StateBackend } from "../stub/stateBackend.js";
import { toHex } from "../protocol/hex.js";
import {
  SecureIdLedgerError,
  type CloseableEvents,
  type EvaluateOptions,
  type EventsOptions,
  type LedgerEvent,
  type SecureIdLedger,
  type SubmitOptions,
  type SubmitResult,
} from "./secureIdLedger.js";

export interface EmbeddedLedgerOptions {
  /** The channel's organisations; each has one simulated peer and may act as a client. */
  orgs: readonly string[];
  /** A SQLite file for a ledger that survives restarts; in memory when absent. */
  path?: string;
  backend?: StateBackend;
  channel?: string;
  contract?: Contract;
  /** The clock clients stamp proposals with (milliseconds), as Fabric clients do. */
  now?: () => number;
}

const IMPLICIT_PREFIX = "_implicit_org_";

/**
 * The developer ledger: the SecureId chaincode executed in process against a committed-state store, with
 * Fabric's transaction flow kept where it matters to the protocol. A submit is simulated on each endorsing
 * organisation's peer, the results must agree byte for byte, the write set must satisfy the endorsement
 * policy (channel MAJORITY for public state, the owning organisation for its implicit collection), and only
 * then is it committed, atomically, as one block with its event. An evaluate runs on one peer and never
 * writes. Transactions are processed one at a time, the order a single orderer would give them.
 */
export class EmbeddedLedger implements SecureIdLedger {
  readonly orgs: readonly string[];
  readonly #backend: StateBackend;
  readonly #runner: ChaincodeRunner;
  readonly #now: () => number;
  readonly #down = new Set<string>();
  readonly #committed = new EventEmitter();
  readonly #closing = new AbortController();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: EmbeddedLedgerOptions) {
    if (options.orgs.length === 0) throw new Error("an embedded ledger needs at least one organisation");
    this.orgs = [...options.orgs];
    this.#backend = options.backend ?? (options.path ? new SqliteBackend(options.path) : new MemoryBackend());
    this.#runner = new ChaincodeRunner(options.contract ?? new SecureId(), options.channel ?? "gridmesh");
    this.#now = options.now ?? Date.now;
    this.#committed.setMaxListeners(0);
  }

  /** Simulates an organisation's peer going down (true) or coming back (false). */
  setPeerDown(org: string, down: boolean): void {
    this.#checkOrg(org, "peer");
    if (down) this.#down.add(org);
    else this.#down.delete(org);
  }

  height(): bigint {
    return BigInt(this.#backend.height());
  }

  submit(fn: string, args: readonly string[], options: SubmitOptions): Promise<SubmitResult> {
    return this.#serially(async () => {
      const proposal = this.#proposal(fn, args, options.asOrg, options.transient);
      const endorsers = options.endorsingOrgs ?? this.#defaultEndorsers(options.asOrg, fn);
      const simulations: SimulationSuccess[] = [];
      for (const org of endorsers) {
        this.#checkPeerUp(org, fn);
        const simulation = await this.#runner.simulate(this.#backend, proposal, org);
        if (!simulation.ok) {
          throw new SecureIdLedgerError("endorse", `chaincode response 500, ${simulation.message}`, {
            fn,
            org,
            txId: proposal.txId,
          });
        }
        simulations.push(simulation);
      }
      const [first, ...others] = simulations;
      if (!first)
        throw new SecureIdLedgerError("endorse", "no endorsing organisation", { fn, txId: proposal.txId });
      const reference = rwsetBytes(first);
      if (others.some((s) => rwsetBytes(s) !== reference)) {
        throw new SecureIdLedgerError("endorse", "ProposalResponsePayloads do not match", {
          fn,
          txId: proposal.txId,
        });
      }
      this.#validate(first, endorsers, fn, proposal.txId);
      let blockNumber: number;
      try {
        blockNumber = this.#backend.commit({
          txId: proposal.txId,
          timestamp: proposal.timestamp,
          fn,
          creatorMsp: options.asOrg,
          writes: first.writes,
          privateWrites: first.privateWrites,
          event: first.event,
        });
      } catch (cause) {
        const status = cause instanceof DuplicateTransactionError ? "DUPLICATE_TXID" : "INVALID_OTHER_REASON";
        throw new SecureIdLedgerError(
          "commit",
          (cause as Error).message,
          { fn, txId: proposal.txId, status },
          { cause },
        );
      }
      this.#committed.emit("block");
      return { txId: proposal.txId, blockNumber: BigInt(blockNumber), result: first.payload };
    });
  }

  evaluate(fn: string, args: readonly string[], options: EvaluateOptions): Promise<Uint8Array> {
    return this.#serially(async () => {
      const proposal = this.#proposal(fn, args, options.asOrg);
      const org = options.targetOrg ?? options.asOrg;
      this.#checkPeerUp(org, fn);
      const simulation = await this.#runner.simulate(this.#backend, proposal, org);
      if (!simulation.ok) {
        throw new SecureIdLedgerError("evaluate", `chaincode response 500, ${simulation.message}`, {
          fn,
          org,
        });
      }
      return simulation.payload;
    });
  }

  events(options: EventsOptions): Promise<CloseableEvents> {
    this.#checkOrg(options.asOrg, "client");
    const checkpointBlock = options.checkpoint?.getBlockNumber();
    const checkpointTx = options.checkpoint?.getTransactionId();
    let next = Number(checkpointBlock ?? options.startBlock ?? 0n);
    let skipThrough = checkpointBlock !== undefined ? checkpointTx : undefined;
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.#closing.signal]);
    const backend = this.#backend;
    const committed = this.#committed;
    async function* stream(): AsyncGenerator<LedgerEvent> {
      const wakeups = on(committed, "block", { signal });
      try {
        for (;;) {
          for (const event of backend.eventsFrom(next)) {
            next = event.blockNumber + 1;
            if (skipThrough !== undefined) {
              // Resuming after a checkpointed event: its block holds nothing newer, since a block is one tx.
              if (event.txId === skipThrough) {
                skipThrough = undefined;
                continue;
              }
              skipThrough = undefined;
            }
            yield {
              blockNumber: BigInt(event.blockNumber),
              txId: event.txId,
              name: event.name,
              payload: event.payload,
            };
          }
          const woke = await wakeups.next();
          if (woke.done) return;
        }
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
    }
    const iterator = stream();
    return Promise.resolve({
      [Symbol.asyncIterator]: () => iterator,
      close: () => stop.abort(),
    });
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#queue.catch(() => undefined);
    this.#backend.close();
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #proposal(
    fn: string,
    args: readonly string[],
    asOrg: string,
    transient?: Record<string, Uint8Array>,
  ): Proposal {
    this.#checkOrg(asOrg, "client");
    if (this.#closing.signal.aborted)
      throw new SecureIdLedgerError("unavailable", "the ledger is closed", { fn });
    const id = `${asOrg}-client`;
    const nonce = randomBytes(24);
    // Fabric's transaction id: sha256(nonce ‖ serialized creator), 64 hex digits.
    const txId = createHash("sha256").update(nonce).update(`${asOrg}\n${id}`).digest("hex");
    const ms = this.#now();
    return {
      fn,
      args: [...args],
      transient: new Map(Object.entries(transient ?? {})),
      txId,
      timestamp: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
      creator: { mspId: asOrg, id },
    };
  }

  /** What the Fabric Gateway would pick for the MAJORITY policy: the caller's peer, then the others that are up. */
  #defaultEndorsers(asOrg: string, fn: string): string[] {
    const needed = majority(this.orgs.length);
    const up = [asOrg, ...this.orgs.filter((o) => o !== asOrg)].filter((o) => !this.#down.has(o));
    if (up.length < needed) {
      throw new SecureIdLedgerError(
        "unavailable",
        `${up.length} peer(s) up, the endorsement policy needs ${needed} of ${this.orgs.length}`,
        { fn },
      );
    }
    return up.slice(0, needed);
  }

  #validate(simulation: SimulationSuccess, endorsers: readonly string[], fn: string, txId: string): void {
    const needed = majority(this.orgs.length);
    if (simulation.writes.length > 0 && new Set(endorsers).size < needed) {
      throw new SecureIdLedgerError(
        "commit",
        `public writes endorsed by ${endorsers.join(", ")}: MAJORITY needs ${needed} of ${this.orgs.length}`,
        { fn, txId, status: "ENDORSEMENT_POLICY_FAILURE" },
      );
    }
    for (const { collection } of simulation.privateWrites) {
      const owner = collection.slice(IMPLICIT_PREFIX.length);
      if (!endorsers.includes(owner)) {
        throw new SecureIdLedgerError(
          "commit",
          `write to ${collection} needs the endorsement of ${owner}, got ${endorsers.join(", ")}`,
          { fn, txId, status: "ENDORSEMENT_POLICY_FAILURE" },
        );
      }
    }
  }

  #checkPeerUp(org: string, fn: string): void {
    this.#checkOrg(org, "peer");
    if (this.#down.has(org)) {
      throw new SecureIdLedgerError("unavailable", `peer of ${org} is unreachable`, { fn, org });
    }
  }

  #checkOrg(org: string, role: string): void {
    if (!this.orgs.includes(org)) {
      throw new Error(
        `${org} is not an organisation of this ledger (${role}); known: ${this.orgs.join(", ")}`,
      );
    }
  }
}

function majority(count: number): number {
  return Math.floor(count / 2) + 1;
}

/** The part of a proposal response that endorsers must agree on. */
function rwsetBytes(s: SimulationSuccess): string {
  return canonicalJson({
    payload: toHex(s.payload),
    writes: s.writes.map((w) => [w.key, w.value ? toHex(w.value) : null]),
    privateWrites: s.privateWrites.map((w) => [w.collection, w.key, w.value ? toHex(w.value) : null]),
    event: s.event ? [s.event.name, toHex(s.event.payload)] : null,
  });
}
