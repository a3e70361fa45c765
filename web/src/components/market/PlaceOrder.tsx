"use client";

import { energyMarketAbi, lockFor, testDollarAbi } from "@gridmesh/contracts";
import { useState } from "react";
import { useReadContracts } from "wagmi";

import { useContractTx } from "../../hooks/useContractTx.js";
import { useMyMeters } from "../../hooks/useMyMeters.js";
import { useToken } from "../../hooks/useToken.js";
import { formatEnergy, parseUnits } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { MeterSelect } from "../delivery/MeterSelect.js";
import { chosenMeter } from "../delivery/WindowFields.js";
import { ConnectFirst, Empty } from "../States.js";
import { withApproval } from "../TxButton.js";
import { TxStatus } from "../TxStatus.js";

type Side = "offer" | "bid";

/**
 * Place an offer or a bid. Before anything is signed the form shows what will be locked: a bid
 * escrows its worst-case cost, an offer posts collateral at the market's penalty per kWh. When the
 * market may not yet take that much of the user's tokens, an approval of exactly that amount comes
 * first, as its own signed step.
 */
export function PlaceOrder({ interval }: { interval: number | undefined }) {
  const { contracts } = useDeployment();
  const token = useToken();
  const { address, data: meters, active } = useMyMeters();
  const tx = useContractTx();
  const [side, setSide] = useState<Side>("offer");
  const [meter, setMeter] = useState<string>("");
  const [kwh, setKwh] = useState("1");
  const [price, setPrice] = useState("0.15");

  const { data: chain } = useReadContracts({
    contracts: [
      { address: contracts.energyMarket, abi: energyMarketAbi, functionName: "penaltyPerKwh" },
      { address: token?.address, abi: testDollarAbi, functionName: "balanceOf", args: [address!] },
      {
        address: token?.address,
        abi: testDollarAbi,
        functionName: "allowance",
        args: [address!, contracts.energyMarket],
      },
    ],
    allowFailure: false,
    query: { enabled: address !== undefined && token !== undefined, refetchInterval: 4_000 },
  });

  if (address === undefined) return <ConnectFirst to="place orders" />;
  if (meters !== undefined && active.length === 0) {
    return <Empty>You have no active meter: a meter must be verified before it can trade.</Empty>;
  }
  const chosen = chosenMeter({ meter }, active);

  let problem: string | undefined;
  let wh = 0n;
  let pricePerKwh = 0n;
  try {
    wh = parseUnits(kwh, 3);
    if (wh <= 0n) problem = "Enter an amount of energy above zero.";
  } catch (e) {
    problem = `Energy: ${(e as Error).message}.`;
  }
  try {
    pricePerKwh = parseUnits(price, token?.decimals ?? 6);
    if (side === "bid" && pricePerKwh <= 0n) problem ??= "A bid needs a price above zero.";
    if (pricePerKwh < 0n) problem ??= "The price cannot be negative.";
  } catch (e) {
    problem ??= `Price: ${(e as Error).message}.`;
  }
  if (interval === undefined) problem ??= "Choose an interval.";

  const [penalty, balance, allowance] = (chain ?? []) as [bigint?, bigint?, bigint?];
  const deposit =
    penalty === undefined ? undefined : side === "bid" ? lockFor(wh, pricePerKwh) : lockFor(wh, penalty);
  if (deposit !== undefined && balance !== undefined && deposit > balance) {
    problem ??= `You need ${token?.money(deposit)} but hold ${token?.money(balance)}.`;
  }
  const needsApproval = deposit !== undefined && allowance !== undefined && allowance < deposit;

  const submit = async () => {
    if (
      problem !== undefined ||
      chosen === undefined ||
      interval === undefined ||
      deposit === undefined ||
      token === undefined
    )
      return;
    const what = `${side === "offer" ? "Offer" : "Bid"} ${formatEnergy(wh)} at ${token.price(pricePerKwh)} for interval ${interval}`;
    await tx.send(
      withApproval(
        { token, allowance, amount: deposit, what: `Allow the market to lock ${token.money(deposit)}` },
        {
          address: contracts.energyMarket,
          abi: energyMarketAbi,
          functionName: side === "offer" ? "placeOffer" : "placeBid",
          args: [chosen, BigInt(interval), wh, pricePerKwh],
          what,
        },
      ),
    );
  };

  const busy = tx.state.step === "checking" || tx.state.step === "signing" || tx.state.step === "pending";
  return (
    <form
      className="stack"
      data-testid="place-order"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="row" role="radiogroup" aria-label="Side">
        {(["offer", "bid"] as const).map((s) => (
          <label key={s} className="row">
            <input type="radio" name="side" value={s} checked={side === s} onChange={() => setSide(s)} />
            {s === "offer" ? "Sell (offer)" : "Buy (bid)"}
          </label>
        ))}
      </div>
      <MeterSelect meters={active} value={chosen ?? ""} onChange={setMeter} name="meter" />
      <label>
        Energy (kWh)
        <input name="kwh" inputMode="decimal" value={kwh} onChange={(e) => setKwh(e.target.value)} />
      </label>
      <label>
        {side === "offer" ? "Lowest price you accept" : "Highest price you pay"} ({token?.symbol ?? "token"}{" "}
        per kWh)
        <input name="price" inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
      </label>
      <p className="note" data-testid="deposit">
        {deposit === undefined || token === undefined
          ? "Working out the deposit…"
          : side === "bid"
            ? `Escrow locked now: ${token.money(deposit)} (the most this bid can cost; what it does not spend comes back).`
            : `Collateral locked now: ${token.money(deposit)} (${token.price(penalty!)} penalty for energy sold but not delivered; it comes back with delivery).`}
        {needsApproval ? " Your wallet will first ask you to let the market lock this amount." : ""}
      </p>
      {problem !== undefined ? <p className="error">{problem}</p> : null}
      <button type="submit" disabled={busy || problem !== undefined}>
        {side === "offer" ? "Place offer" : "Place bid"}
      </button>
      <TxStatus state={tx.state} />
    </form>
  );
}
