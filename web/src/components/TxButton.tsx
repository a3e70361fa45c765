"use client";

import { testDollarAbi } from "@gridmesh/contracts";
import type { ReactNode } from "react";

import type { ContractCall, useContractTx } from "../hooks/useContractTx.js";
import type { TokenInfo } from "../hooks/useToken.js";

/** What a call locks from the user's tokens; the called contract is the one that takes them. */
export interface Lock {
  token: TokenInfo;
  /** What the called contract may take now; undefined while unknown (then an approval is sent). */
  allowance: bigint | undefined;
  amount: bigint;
  /** The approval's words in the status line; "Allow <amount> to be locked" when not given. */
  what?: string;
}

/** An approval of exactly the locked amount first when the contract may not yet take it, then the call. */
export function withApproval(lock: Lock, call: ContractCall): ContractCall[] {
  const { token, allowance, amount } = lock;
  return [
    ...(allowance === undefined || allowance < amount
      ? [
          {
            address: token.address,
            abi: testDollarAbi,
            functionName: "approve",
            args: [call.address, amount],
            what: lock.what ?? `Allow ${token.money(amount)} to be locked`,
          },
        ]
      : []),
    call,
  ];
}

/**
 * A button that sends one contract call from the wallet, after the approval it needs when it locks
 * tokens (`lock`); `call` is undefined while the form cannot make one, which disables the button.
 */
export function TxButton({
  tx,
  call,
  lock,
  disabled = false,
  className,
  title,
  children,
}: {
  tx: ReturnType<typeof useContractTx>;
  call: ContractCall | undefined;
  lock?: Lock;
  disabled?: boolean;
  className?: string;
  title?: string;
  children: ReactNode;
}) {
  return (
    <button
      className={className}
      title={title}
      disabled={disabled || call === undefined}
      onClick={() => {
        if (call !== undefined) void tx.send(lock === undefined ? [call] : withApproval(lock, call));
      }}
    >
      {children}
    </button>
  );
}
