import type { Contract, ContractTransactionResponse, Interface, TransactionReceipt } from "ethers";

import { decodeCustomError, resyncNonce } from "@gridmesh/contracts/ethers";

import { GatewayError } from "../common/errors.js";

/** A contract refused a call with one of its custom errors (found by the static call: no gas spent). */
export class ContractRevertError extends GatewayError {
  override readonly name = "ContractRevertError";
  readonly errorName: string;
  readonly args: readonly unknown[];

  constructor(label: string, errorName: string, args: readonly unknown[]) {
    super(`${label} refused: ${errorName}(${args.map(String).join(", ")})`, { details: { errorName } });
    this.errorName = errorName;
    this.args = args;
  }
}

export interface TransactionSenderOptions {
  /** Blocks to wait for after inclusion. */
  confirmations: number;
  timeoutMs?: number;
}

/**
 * Sends the gateway's own transactions (clearings, settlements, relayed readings) one at a time:
 * a static call first, so a refusal costs no gas and comes back as a decoded ContractRevertError,
 * then the transaction, then its receipt at the configured depth. One queue for one key keeps
 * nonces in order without a nonce manager guessing.
 */
export class TransactionSender {
  #queue: Promise<unknown> = Promise.resolve();
  readonly #confirmations: number;
  readonly #timeoutMs: number;

  constructor(options: TransactionSenderOptions) {
    this.#confirmations = options.confirmations;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Calls `method` on `contract` (connected to the gateway's signer) and waits for its receipt. */
  send(
    contract: Contract,
    method: string,
    args: readonly unknown[],
    label: string,
  ): Promise<TransactionReceipt> {
    const run = this.#queue.then(() => this.#send(contract, method, args, label));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #send(contract: Contract, method: string, args: readonly unknown[], label: string) {
    const fn = contract.getFunction(method);
    try {
      await fn.staticCall(...args);
    } catch (e) {
      throw decodeRevert(contract.interface, e, label);
    }
    let tx: ContractTransactionResponse;
    try {
      tx = (await fn(...args)) as ContractTransactionResponse;
    } catch (e) {
      resyncNonce(contract);
      throw decodeRevert(contract.interface, e, label);
    }
    const receipt = await tx.wait(Math.max(1, this.#confirmations), this.#timeoutMs);
    if (receipt === null || receipt.status !== 1) {
      throw new GatewayError(`${label}: transaction ${tx.hash} failed`, { retryable: true });
    }
    return receipt;
  }
}

/** A revert with a known custom error becomes a ContractRevertError; anything else stays retryable. */
function decodeRevert(iface: Interface, error: unknown, label: string): GatewayError {
  const decoded = decodeCustomError(iface, error);
  if (decoded !== undefined) return new ContractRevertError(label, decoded.name, decoded.args);
  return new GatewayError(`${label}: ${(error as Error).message}`, { retryable: true, cause: error });
}
