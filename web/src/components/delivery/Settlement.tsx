"use client";

import type { Abi, Address } from "viem";

import type { useContractTx } from "../../hooks/useContractTx.js";
import type { TokenInfo } from "../../hooks/useToken.js";
import type { Settlement } from "../../lib/deliveryMath.js";
import { formatEnergy } from "../../lib/units.js";
import { TxButton } from "../TxButton.js";

/** A schedule's settlement in words: energy delivered against what was owed, money each way, margins back. */
export function SettlementSummary({
  token,
  settlement: s,
  owedWh,
}: {
  token: TokenInfo;
  settlement: Settlement;
  /** The whole window's energy. */
  owedWh: bigint;
}) {
  if (s.intervals === 0 && s.released === undefined) return null;
  return (
    <span className="note" data-testid="settlement">
      Delivered {formatEnergy(s.deliveredWh)} of {formatEnergy(owedWh)}; paid {token.money(s.paid)}, penalties{" "}
      {token.money(s.penalty)}
      {s.released === undefined
        ? ""
        : `; margins back: seller ${token.money(s.released.seller)}, buyer ${token.money(s.released.buyer)}`}
    </span>
  );
}

/**
 * The user's payouts credited by a delivery market (payments, penalties, released margins,
 * premiums), with the button that moves them to the wallet.
 */
export function Withdrawable({
  tx,
  token,
  market,
  abi,
  me,
  amount,
}: {
  tx: ReturnType<typeof useContractTx>;
  token: TokenInfo;
  market: Address;
  abi: Abi;
  me: Address;
  amount: bigint;
}) {
  return (
    <p className="row" data-testid="withdrawable">
      <span>Credited to you here: {token.money(amount)}</span>
      {amount > 0n ? (
        <TxButton
          tx={tx}
          className="secondary"
          call={{
            address: market,
            abi,
            functionName: "withdraw",
            args: [me, amount],
            what: `Withdraw ${token.money(amount)}`,
          }}
        >
          Withdraw to wallet
        </TxButton>
      ) : null}
    </p>
  );
}
