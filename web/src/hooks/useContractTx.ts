"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import type { Abi, Address, Hash } from "viem";
import { useConnection, usePublicClient, useWalletClient } from "wagmi";

import { describeError } from "../lib/errors.js";

export type TxState =
  | { step: "idle" }
  | { step: "checking"; what: string }
  | { step: "signing"; what: string }
  | { step: "pending"; what: string; hash: Hash }
  | { step: "confirmed"; what: string; hash: Hash; block: bigint }
  | { step: "failed"; what: string; message: string; hash?: Hash };

export interface ContractCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  /** What the user is doing, in words: "Place an offer of 1.5 kWh". */
  what: string;
}

/**
 * Sends contract calls from the connected wallet, one after another, saying at each step what is
 * happening: checked against the chain first (so a call the contract would refuse fails with its
 * reason before the wallet asks anything), signed in the wallet, mined. Live data is refetched
 * after each confirmation.
 */
export function useContractTx() {
  const { address } = useConnection();
  const publicClient = usePublicClient();
  const { data: walletClient } = useWalletClient();
  const queryClient = useQueryClient();
  const [state, setState] = useState<TxState>({ step: "idle" });

  const send = useCallback(
    async (calls: readonly ContractCall[]): Promise<boolean> => {
      if (address === undefined || walletClient === undefined || publicClient === undefined) {
        setState({ step: "failed", what: calls[0]?.what ?? "", message: "Connect a wallet first." });
        return false;
      }
      for (const call of calls) {
        let hash: Hash | undefined;
        try {
          setState({ step: "checking", what: call.what });
          const { request } = await publicClient.simulateContract({
            account: address,
            address: call.address,
            abi: call.abi,
            functionName: call.functionName,
            args: call.args,
          });
          setState({ step: "signing", what: call.what });
          hash = await walletClient.writeContract(request);
          setState({ step: "pending", what: call.what, hash });
          const receipt = await publicClient.waitForTransactionReceipt({ hash });
          if (receipt.status !== "success") throw new Error("the transaction was mined but reverted");
          setState({ step: "confirmed", what: call.what, hash, block: receipt.blockNumber });
          await queryClient.invalidateQueries();
        } catch (error) {
          setState({
            step: "failed",
            what: call.what,
            message: describeError(error),
            ...(hash !== undefined && { hash }),
          });
          return false;
        }
      }
      return true;
    },
    [address, walletClient, publicClient, queryClient],
  );

  return { state, send, reset: () => setState({ step: "idle" }) };
}

/** The state of a transaction in words, for the status line under a form. */
export function describeTx(state: TxState): string {
  switch (state.step) {
    case "idle":
      return "";
    case "checking":
      return `${state.what}: checking with the contract…`;
    case "signing":
      return `${state.what}: confirm in your wallet…`;
    case "pending":
      return `${state.what}: sent (${state.hash.slice(0, 10)}…), waiting to be mined…`;
    case "confirmed":
      return `${state.what}: done, in block ${state.block}.`;
    case "failed":
      return `${state.what} failed. ${state.message}`;
  }
}
