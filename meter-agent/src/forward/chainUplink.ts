import { type BaseWallet, Contract, Interface } from "ethers";

import { deliveryLedgerAbi, type Address, type SignedReading } from "@gridmesh/contracts";

import { type DeliveryOutcome, type Uplink, UplinkError } from "./uplink.js";

export interface ChainUplinkOptions {
  /** The meter's key, connected to a provider: readings go out as the meter's own transactions. */
  wallet: BaseWallet;
  ledger: Address;
  batchSize?: number;
  /** Blocks to wait for after inclusion before calling readings delivered. Default 1. */
  confirmations?: number;
  timeoutMs?: number;
}

/** Revert reasons that mean "not yet": the reading stays pending and is offered again later. */
const ledgerInterface = new Interface(deliveryLedgerAbi);

/**
 * The ledger's custom error in a failed call, wherever the provider put its revert data (ethers'
 * CallExceptionError over JSON-RPC, Hardhat's in-process SolidityError, nested causes).
 */
function revertOf(e: unknown): { name: string; args: unknown[] } | undefined {
  for (let at: unknown = e, depth = 0; at !== null && typeof at === "object" && depth < 5; depth++) {
    const data = (at as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) {
      const parsed = ledgerInterface.parseError(data);
      if (parsed !== null) return { name: parsed.name, args: [...parsed.args] as unknown[] };
    }
    const next = at as { error?: unknown; cause?: unknown; info?: { error?: unknown } };
    at = next.error ?? next.cause ?? next.info?.error;
  }
  return undefined;
}

const WAIT = new Set(["DeliveryLedgerIntervalNotEnded", "DeliveryLedgerGapNotFinal"]);

/**
 * Records readings on the DeliveryLedger with `recordReadings`, as the meter's transactions. The
 * ledger takes each meter's readings in order, so the oldest pending ones go first, and everything
 * the contract would refuse is found with a static call first: no gas is spent on a revert, and a
 * reading the ledger can never take (past its deadline, superseded, meter inactive) is reported as
 * rejected instead of blocking the ones behind it.
 */
export class ChainUplink implements Uplink {
  readonly name = "chain";
  readonly order = "oldest-first";
  readonly batchSize: number;
  readonly #ledger: Contract;
  readonly #meter: Address;
  readonly #confirmations: number;
  readonly #timeoutMs: number;

  constructor(options: ChainUplinkOptions) {
    this.#ledger = new Contract(options.ledger, deliveryLedgerAbi, options.wallet);
    this.#meter = options.wallet.address as Address;
    this.batchSize = options.batchSize ?? 50;
    this.#confirmations = options.confirmations ?? 1;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  async submit(batch: readonly SignedReading[]): Promise<DeliveryOutcome[]> {
    const ordered = [...batch].sort((a, b) => (a.reading.sequence < b.reading.sequence ? -1 : 1));
    try {
      const [lastInterval, lastSequence] = (await this.#ledger.getFunction("meterState")(this.#meter)) as [
        bigint,
        bigint,
      ];
      // Readings at or before the ledger's latest one were recorded already, or can never be.
      const outcomes: DeliveryOutcome[] = [];
      let i = 0;
      for (; i < ordered.length && lastSequence !== 0n; i++) {
        const r = ordered[i]!.reading;
        if (r.sequence > lastSequence && r.interval > lastInterval) break;
        const [recorded] = (await this.#ledger.getFunction("delivery")(this.#meter, r.interval)) as [boolean];
        outcomes.push(
          recorded
            ? { sequence: r.sequence, status: "duplicate" }
            : {
                sequence: r.sequence,
                status: "rejected",
                reason: `superseded: the ledger already holds interval ${lastInterval}`,
              },
        );
      }
      if (outcomes.length > 0) return outcomes;
      return await this.#record(ordered);
    } catch (e) {
      if (e instanceof UplinkError) throw e;
      throw new UplinkError(`cannot reach the DeliveryLedger: ${(e as Error).message}`, {
        retryable: true,
        cause: e,
      });
    }
  }

  async #record(ordered: SignedReading[]): Promise<DeliveryOutcome[]> {
    const readings = ordered.map((s) => s.reading);
    const signatures = ordered.map((s) => s.signature);
    const recordReadings = this.#ledger.getFunction("recordReadings");
    try {
      await recordReadings.staticCall(readings, signatures);
    } catch (e) {
      const revert = revertOf(e);
      if (revert === undefined) throw e;
      const { name, args } = revert;
      // The contract checks readings in order and stops at the first it refuses; the ones before
      // it are fine and go alone, so one refusal never holds back the readings ahead of it.
      const at = offendingIndex(name, args, ordered);
      if (at > 0) return this.#record(ordered.slice(0, at));
      const aheadOfChain =
        name === "DeliveryLedgerTimestampOutOfRange" && (args[0] as bigint) > (args[2] as bigint);
      if (WAIT.has(name) || aheadOfChain) {
        throw new UplinkError(`the ledger says wait: ${name}(${args.join(", ")})`, { retryable: true });
      }
      const first = ordered[0]!.reading;
      if (name === "DeliveryLedgerReadingAlreadyRecorded")
        return [{ sequence: first.sequence, status: "duplicate" }];
      if (at === -1 && ordered.length > 1) return this.#record(ordered.slice(0, 1));
      return [{ sequence: first.sequence, status: "rejected", reason: `${name}(${args.join(", ")})` }];
    }
    const tx = (await recordReadings(readings, signatures)) as {
      wait(c: number, t: number): Promise<unknown>;
    };
    const receipt = (await tx.wait(this.#confirmations, this.#timeoutMs)) as { status: number } | null;
    if (receipt === null || receipt.status !== 1)
      throw new UplinkError("recordReadings transaction failed", { retryable: true });
    return ordered.map((s) => ({ sequence: s.reading.sequence, status: "delivered" }));
  }
}

/** Which reading of the batch a ledger error is about: -1 when the error does not say. */
function offendingIndex(name: string, args: unknown[], ordered: SignedReading[]): number {
  let interval: unknown;
  if (name === "DeliveryLedgerIntervalNotEnded") interval = args[0];
  else if (name === "DeliveryLedgerGapNotFinal") interval = (args[1] as bigint) + 1n;
  else if (name === "DeliveryLedgerTimestampOutOfRange") {
    return ordered.findIndex((s) => s.reading.timestamp === args[0]);
  } else if (typeof args[0] === "string") interval = args[1]; // (meter, interval, …)
  return typeof interval === "bigint" ? ordered.findIndex((s) => s.reading.interval === interval) : -1;
}
