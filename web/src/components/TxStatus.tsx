"use client";

import { describeTx, type TxState } from "../hooks/useContractTx.js";

export function TxStatus({ state }: { state: TxState }) {
  if (state.step === "idle") return null;
  const cls = state.step === "failed" ? "tx error" : state.step === "confirmed" ? "tx ok" : "tx";
  return (
    <p className={cls} role={state.step === "failed" ? "alert" : "status"} data-testid="tx-status">
      {describeTx(state)}
    </p>
  );
}
