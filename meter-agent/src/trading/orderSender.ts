import { setTimeout as sleep } from "node:timers/promises";

import {
  type BaseWallet,
  Contract,
  type Provider,
  type TransactionReceipt,
  Interface,
  keccak256,
} from "ethers";

import { energyMarketAbi, type Address, type Hex } from "@gridmesh/contracts";
import { decodeCustomError } from "@gridmesh/contracts/ethers";

import type { Mutex } from "../common/mutex.js";
import type { TradeOrder, TradeOrders, TradeSide } from "../store/tradeOrders.js";

export interface OrderSenderOptions {
  /** The meter's key, connected to a provider: orders go out as the meter's own transactions. */
  wallet: BaseWallet;
  market: Address;
  trades: TradeOrders;
  /** Taken around every transaction of the meter's, so that two never pick the same nonce. */
  transactions: Mutex;
  /** Blocks after inclusion before an order counts as placed. Default 1. */
  confirmations?: number;
  /** How long one call waits for its transaction; after that the next run looks again. Default 60 s. */
  timeoutMs?: number;
  /** Between looks for the receipt. Default 500 ms. */
  pollMs?: number;
}

export interface OrderRequest {
  interval: bigint;
  side: TradeSide;
  owner: Address;
  meter: Address;
  wh: bigint;
  pricePerKwh: bigint;
}

export type SendOutcome =
  | { kind: "placed"; orderId: bigint; txHash: Hex }
  /** Recorded and broadcast, not yet mined (or not confirmed): look again later, never send anew. */
  | { kind: "waiting"; txHash: Hex }
  /** The market refused it in a static call: nothing was sent. */
  | { kind: "refused"; reason: string }
  /** Sent, and no order came of it (reverted, or it can never be mined). */
  | { kind: "failed"; reason: string; txHash: Hex };

const marketInterface = new Interface(energyMarketAbi);
const NONCE_USED = "its nonce went to another transaction";

/** The market's custom error in a failed call, as `Name(arg, …)`. */
export function marketRevert(error: unknown): string | undefined {
  const decoded = decodeCustomError(marketInterface, error);
  return decoded === undefined ? undefined : `${decoded.name}(${decoded.args.join(", ")})`;
}

/**
 * Sends the trader's orders so that a crash at any moment never places two for one interval: the
 * transaction is signed first and recorded with its hash and nonce (durably) before it is
 * broadcast. Whatever happens next, the one recorded transaction is what the trader looks up or
 * broadcasts again; a transaction with that nonce can be mined only once, and once its nonce is used
 * by another one it can never be.
 */
export class OrderSender {
  readonly #o: Required<OrderSenderOptions>;
  readonly #market: Contract;
  readonly #provider: Provider;
  #stopping = false;

  constructor(options: OrderSenderOptions) {
    this.#o = { confirmations: 1, timeoutMs: 60_000, pollMs: 500, ...options };
    if (options.wallet.provider === null) throw new TypeError("the meter's wallet needs a provider");
    this.#provider = options.wallet.provider;
    this.#market = new Contract(options.market, energyMarketAbi, options.wallet);
  }

  /** Stops waiting for receipts: a pending wait returns "waiting" within one poll. */
  stop(): void {
    this.#stopping = true;
  }

  async place(r: OrderRequest): Promise<SendOutcome> {
    const fn = this.#market.getFunction(r.side === "offer" ? "placeOfferFor" : "placeBidFor");
    const args = [r.owner, r.meter, r.interval, r.wh, r.pricePerKwh] as const;
    // A static call first: the market's own reason for a refusal, and no gas spent on a revert.
    try {
      await fn.staticCall(...args);
    } catch (e) {
      const reason = marketRevert(e);
      if (reason === undefined) throw e;
      return { kind: "refused", reason };
    }
    const attempt = await this.#o.transactions.run(async () => {
      const { wallet, market, trades } = this.#o;
      const tx = await wallet.populateTransaction(await fn.populateTransaction(...args));
      const rawTx = (await wallet.signTransaction(tx)) as Hex;
      const recorded: TradeOrder = {
        market,
        interval: r.interval,
        side: r.side,
        owner: r.owner,
        wh: r.wh,
        pricePerKwh: r.pricePerKwh,
        nonce: Number(tx.nonce),
        txHash: keccak256(rawTx) as Hex,
        rawTx,
        status: "sent",
        orderId: null,
        reason: null,
        createdMs: Date.now(),
        updatedMs: Date.now(),
      };
      trades.recordSent(recorded);
      return { recorded, dropped: await this.#broadcast(recorded) };
    });
    if (attempt.dropped !== undefined)
      return this.#settleFailed(attempt.recorded, "dropped", attempt.dropped);
    return this.#outcome(attempt.recorded);
  }

  /**
   * Follows up an attempt recorded as sent (a restart, or a wait that timed out): its receipt if
   * mined; still waiting if the node knows it; broadcast again while its nonce is unused and the
   * gate open; otherwise settled as dropped, so a new attempt may be made.
   */
  async follow(attempt: TradeOrder, gateOpen: boolean): Promise<SendOutcome> {
    const receipt = await this.#provider.getTransactionReceipt(attempt.txHash);
    if (receipt !== null) return this.#outcome(attempt, receipt);
    if ((await this.#provider.getTransaction(attempt.txHash)) !== null) return this.#outcome(attempt);
    const used = await this.#provider.getTransactionCount(this.#o.wallet.address, "latest");
    if (used > attempt.nonce) return this.#settleFailed(attempt, "dropped", NONCE_USED);
    if (!gateOpen) return this.#settleFailed(attempt, "dropped", "the gate closed before it was mined");
    const dropped = await this.#o.transactions.run(() => this.#broadcast(attempt));
    if (dropped !== undefined) return this.#settleFailed(attempt, "dropped", dropped);
    return this.#outcome(attempt);
  }

  /** Broadcasts the recorded transaction; returns why it can never be mined, if that is so. */
  async #broadcast(attempt: TradeOrder): Promise<string | undefined> {
    try {
      await this.#provider.broadcastTransaction(attempt.rawTx);
    } catch (e) {
      // Some nodes mine a reverting transaction and answer with the revert, others already have it:
      // what was mined is read from the receipt. An unreachable node may or may not have taken it,
      // so the attempt stays recorded as sent (the error goes up) and is followed up at the next run.
      if ((await this.#provider.getTransactionReceipt(attempt.txHash).catch(() => null)) !== null) return;
      const message = (e as Error).message;
      if (/already known|known transaction|already imported/i.test(message)) return;
      if (/nonce too low|nonce has already been used/i.test(message)) return NONCE_USED;
      throw e;
    }
    return undefined;
  }

  /** Waits (bounded) for the attempt's receipt and settles the record by it. */
  async #outcome(attempt: TradeOrder, known?: TransactionReceipt): Promise<SendOutcome> {
    const receipt = known ?? (await this.#confirmed(attempt.txHash));
    if (receipt === undefined) return { kind: "waiting", txHash: attempt.txHash };
    if (receipt.status !== 1) {
      const reason = `its transaction reverted in block ${receipt.blockNumber}`;
      return this.#settleFailed(attempt, "failed", reason);
    }
    const orderId = receipt.logs
      .map((l) => marketInterface.parseLog(l))
      .find((e) => e?.name === "OfferPlaced" || e?.name === "BidPlaced")?.args[0] as bigint | undefined;
    if (orderId === undefined)
      return this.#settleFailed(attempt, "failed", "its transaction placed no order");
    this.#o.trades.settle(attempt, { status: "placed", orderId }, Date.now());
    return { kind: "placed", orderId, txHash: attempt.txHash };
  }

  async #confirmed(hash: Hex): Promise<TransactionReceipt | undefined> {
    const deadline = Date.now() + this.#o.timeoutMs;
    for (;;) {
      const receipt = await this.#provider.getTransactionReceipt(hash);
      if (receipt !== null && (await receipt.confirmations()) >= this.#o.confirmations) return receipt;
      if (this.#stopping || Date.now() >= deadline) return undefined;
      await sleep(this.#o.pollMs);
    }
  }

  #settleFailed(attempt: TradeOrder, status: "failed" | "dropped", reason: string): SendOutcome {
    this.#o.trades.settle(attempt, { status, reason }, Date.now());
    return { kind: "failed", reason, txHash: attempt.txHash };
  }
}
