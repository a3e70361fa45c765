import { type BaseWallet, Contract } from "ethers";

import { deliveryLedgerAbi, type Address, type SignedReading } from "@gridmesh/contracts";
import { LedgerNotYetError, recordMeterReadings } from "@gridmesh/contracts/ethers";

import { Mutex } from "../common/mutex.js";
import { type DeliveryOutcome, type Uplink, UplinkError } from "./uplink.js";

export interface ChainUplinkOptions {
  /** The store tracks deliveries under this name. Default "chain". */
  name?: string;
  /** The meter's key, connected to a provider: readings go out as the meter's own transactions. */
  wallet: BaseWallet;
  ledger: Address;
  batchSize?: number;
  /** Blocks to wait for after inclusion before calling readings delivered. Default 1. */
  confirmations?: number;
  timeoutMs?: number;
  /** Shared with the automatic trader, which sends the meter's transactions too. */
  transactions?: Mutex;
}

/**
 * Records readings on the DeliveryLedger as the meter's own transactions (see
 * recordMeterReadings for the ordering and static-call rules). The ledger takes each meter's
 * readings in order, so this uplink offers the oldest pending ones first.
 */
export class ChainUplink implements Uplink {
  readonly name: string;
  readonly order = "oldest-first";
  readonly batchSize: number;
  readonly #ledger: Contract;
  readonly #meter: Address;
  readonly #confirmations: number;
  readonly #timeoutMs: number;
  readonly #transactions: Mutex;

  constructor(options: ChainUplinkOptions) {
    this.name = options.name ?? "chain";
    this.#ledger = new Contract(options.ledger, deliveryLedgerAbi, options.wallet);
    this.#meter = options.wallet.address as Address;
    this.batchSize = options.batchSize ?? 50;
    this.#confirmations = options.confirmations ?? 1;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#transactions = options.transactions ?? new Mutex();
  }

  async submit(batch: readonly SignedReading[]): Promise<DeliveryOutcome[]> {
    try {
      const outcomes = await this.#transactions.run(() =>
        recordMeterReadings(this.#ledger, this.#meter, batch, {
          confirmations: this.#confirmations,
          timeoutMs: this.#timeoutMs,
        }),
      );
      return outcomes.map((o): DeliveryOutcome => {
        if (o.status === "rejected") return o;
        return { sequence: o.sequence, status: o.status === "recorded" ? "delivered" : "duplicate" };
      });
    } catch (e) {
      if (e instanceof LedgerNotYetError) throw new UplinkError(e.message, { retryable: true });
      throw new UplinkError(`cannot record on the DeliveryLedger: ${(e as Error).message}`, {
        retryable: true,
        cause: e,
      });
    }
  }
}
