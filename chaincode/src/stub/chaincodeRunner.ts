import { Contract, type Context } from "fabric-contract-api";
import type { ClientIdentity } from "fabric-shim-api";

import type {
  ChaincodeEventRecord,
  PrivateWrite,
  StateBackend,
  StateWrite,
  TxTimestamp,
} from "./stateBackend.js";
import { TxStub } from "./txStub.js";

export interface Proposal {
  /** `Function` or `Contract:Function`, as Fabric clients send it. */
  fn: string;
  args: readonly string[];
  transient?: ReadonlyMap<string, Uint8Array>;
  txId: string;
  timestamp: TxTimestamp;
  creator: { mspId: string; id: string };
}

export interface SimulationSuccess {
  ok: true;
  payload: Uint8Array;
  writes: StateWrite[];
  privateWrites: PrivateWrite[];
  event: ChaincodeEventRecord | null;
}

export type Simulation = SimulationSuccess | { ok: false; message: string };

/**
 * Runs a fabric-contract-api contract in process the way fabric-shim's ChaincodeFromContract does:
 * transaction functions found by introspection (own prototype methods not starting with `_`), exact
 * argument counts, before/around/after hooks, `unknownTransaction` for anything else, and the JSON
 * serializer's wire form of the result. What it does not reproduce is the gRPC link to a peer.
 */
export class ChaincodeRunner {
  readonly #contract: Contract;
  readonly #transactions: ReadonlyMap<string, number>;

  constructor(
    contract: Contract,
    readonly channel: string,
  ) {
    this.#contract = contract;
    const skip = new Set(Object.getOwnPropertyNames(Contract.prototype));
    const prototype = Object.getPrototypeOf(contract) as Record<string, unknown>;
    const transactions = new Map<string, number>();
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const member = prototype[name];
      if (typeof member !== "function" || name === "constructor" || name.startsWith("_") || skip.has(name))
        continue;
      transactions.set(name, Math.max(0, member.length - 1));
    }
    this.#transactions = transactions;
  }

  get contractName(): string {
    return this.#contract.getName();
  }

  transactionNames(): string[] {
    return [...this.#transactions.keys()];
  }

  async simulate(backend: StateBackend, proposal: Proposal, peerMsp: string): Promise<Simulation> {
    const stub = new TxStub({
      backend,
      channel: this.channel,
      txId: proposal.txId,
      timestamp: proposal.timestamp,
      creator: { mspid: proposal.creator.mspId, idBytes: new TextEncoder().encode(proposal.creator.id) },
      peerMsp,
      fn: proposal.fn,
      args: proposal.args,
      transient: proposal.transient ?? new Map(),
    });
    const ctx = this.#contract.createContext();
    ctx.stub = stub;
    ctx.clientIdentity = new EmbeddedClientIdentity(proposal.creator.mspId, proposal.creator.id);
    try {
      const result = await this.#invoke(ctx, proposal);
      return { ok: true, payload: toWire(result), ...stub.writeSet() };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  async #invoke(ctx: Context, proposal: Proposal): Promise<unknown> {
    const separator = proposal.fn.indexOf(":");
    const contractName = separator >= 0 ? proposal.fn.slice(0, separator) : this.#contract.getName();
    const fn = separator >= 0 ? proposal.fn.slice(separator + 1) : proposal.fn;
    if (contractName !== this.#contract.getName())
      throw new Error(`Contract name is not known: ${contractName}`);
    const expected = this.#transactions.get(fn);
    if (expected === undefined) {
      await this.#contract.unknownTransaction(ctx);
      return undefined;
    }
    if (expected > 0 && proposal.args.length !== expected) {
      throw new Error(`Expected ${expected} parameters, but ${proposal.args.length} have been supplied`);
    }
    await this.#contract.beforeTransaction(ctx);
    // fabric-contract-api passes the function's name although its typings say Function.
    const result: unknown = await this.#contract.aroundTransaction(
      ctx,
      fn as unknown as () => void,
      proposal.args,
    );
    await this.#contract.afterTransaction(ctx, result);
    return result;
  }
}

/** The JSONSerializer's wire form for a result without schema metadata. */
function toWire(result: unknown): Uint8Array {
  if (result === undefined || result === null) return new Uint8Array();
  if (typeof result === "string" || typeof result === "number" || typeof result === "boolean") {
    return new TextEncoder().encode(String(result));
  }
  return new TextEncoder().encode(JSON.stringify(result));
}

class EmbeddedClientIdentity implements ClientIdentity {
  constructor(
    readonly mspId: string,
    readonly id: string,
  ) {}

  getMSPID(): string {
    return this.mspId;
  }

  getID(): string {
    return `x509::/CN=${this.id}::/CN=embedded-ca.${this.mspId}`;
  }

  getIDBytes(): Uint8Array {
    return new TextEncoder().encode(this.id);
  }

  getAttributeValue(): string | null {
    return null;
  }

  assertAttributeValue(): boolean {
    return false;
  }
}
