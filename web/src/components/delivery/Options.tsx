"use client";

import { intervalTimes, optionMarketAbi } from "@gridmesh/contracts";
import { useState } from "react";
import { zeroAddress, type Address } from "viem";

import { useChainTime } from "../../hooks/useChainTime.js";
import { useContractTx, type ContractCall } from "../../hooks/useContractTx.js";
import { useDeliveryMarket } from "../../hooks/useDeliveryMarket.js";
import { useMyMeters } from "../../hooks/useMyMeters.js";
import { useToken } from "../../hooks/useToken.js";
import { buyerMargin, scheduleStatus, sellerMargin, settlementOf, windowWh } from "../../lib/deliveryMath.js";
import { formatDuration, shortAddress } from "../../lib/format.js";
import { formatEnergy, parseUnits } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { ConnectFirst, Empty } from "../States.js";
import { TxButton } from "../TxButton.js";
import { TxStatus } from "../TxStatus.js";
import { SettlementSummary, Withdrawable } from "./Settlement.js";
import { chosenMeter, parseWindow, useWindowInput, WindowFields } from "./WindowFields.js";

interface Written {
  id: bigint;
  writer: Address;
  terms: {
    firstInterval: bigint;
    lastInterval: bigint;
    whPerInterval: number;
    strikePerKwh: bigint;
    premium: bigint;
    exerciseDeadline: bigint;
  };
}
interface Schedule {
  seller: Address;
  buyer: Address;
  status: number;
  settledIntervals: number;
  shortfall: boolean;
}

/** Options (seed 001): the right, for a premium, to buy energy at a strike over a future window. */
export function Options() {
  const { contracts, market } = useDeployment();
  const address = contracts.optionMarket;
  const token = useToken();
  const { now } = useChainTime();
  const { address: me, active } = useMyMeters();
  const tx = useContractTx();
  const [span, setSpan] = useWindowInput({ startIn: "4", count: "4", kwh: "0.5" });
  const [strike, setStrike] = useState("0.15");
  const [premium, setPremium] = useState("0.05");

  const { data } = useDeliveryMarket(
    address,
    optionMarketAbi,
    "OptionWritten",
    ["getOption", "getSchedule"],
    me,
    token?.address,
  );

  if (address === null) return <Empty>No option market is deployed on this chain.</Empty>;
  if (me === undefined) return <ConnectFirst to="trade options" />;
  if (token === undefined || data === undefined || now === undefined)
    return <p className="note">Reading options…</p>;
  const written = data.created.map((e) => e.args as unknown as Written);
  const [held, schedules] = data.perId as [
    { premium: bigint; exerciseDeadline: bigint; holder: Address }[],
    Schedule[],
  ];
  const { penaltyPerKwh: penalty, allowance } = data;
  const meter = chosenMeter(span, active);
  const mine = (a: Address) => a.toLowerCase() === me.toLowerCase();

  let offer: { call: ContractCall; collateral: bigint } | string;
  try {
    const { first, last, wh, meter: m } = parseWindow(span, active, market, now);
    const k = parseUnits(strike, token.decimals);
    const prem = parseUnits(premium, token.decimals);
    if (k <= 0n) throw new Error("the strike must be above zero");
    // Exercisable until a little before the window's first gate closure.
    const deadline = BigInt(intervalTimes(market, Number(first)).gateClosure - market.gateClosureSeconds);
    const total = windowWh(first, last, wh);
    const collateral = sellerMargin(total, penalty);
    offer = {
      collateral,
      call: {
        address,
        abi: optionMarketAbi,
        functionName: "write",
        args: [
          {
            firstInterval: first,
            lastInterval: last,
            whPerInterval: wh,
            strikePerKwh: k,
            premium: prem,
            exerciseDeadline: deadline,
          },
          m,
        ],
        what: `Write an option on ${formatEnergy(total)} over intervals ${first}–${last} at ${token.price(k)}`,
      },
    };
  } catch (e) {
    offer = (e as Error).message;
  }

  const rows = written.map((w, i) => ({ w, o: held[i]!, s: schedules[i]! }));
  const forSale = rows.filter(
    (r) =>
      r.s.status === 1 &&
      r.o.holder === zeroAddress &&
      !mine(r.w.writer) &&
      BigInt(now) < r.o.exerciseDeadline,
  );
  const positions = rows.filter((r) => mine(r.w.writer) || mine(r.o.holder));

  const plain = (functionName: string, id: bigint, what: string): ContractCall => ({
    address,
    abi: optionMarketAbi,
    functionName,
    args: [id],
    what,
  });
  const describe = (r: (typeof rows)[number]) => {
    const left = Number(r.o.exerciseDeadline) - now;
    return `${formatEnergy(BigInt(r.w.terms.whPerInterval))} × intervals ${r.w.terms.firstInterval}–${r.w.terms.lastInterval} at ${token.price(r.w.terms.strikePerKwh)}, premium ${token.money(r.o.premium)}, ${left > 0 ? `exercise within ${formatDuration(left)}` : "exercise closed"}`;
  };

  return (
    <div className="stack" data-testid="options">
      <h3>Write an option (you sell the right to buy from you)</h3>
      {active.length === 0 ? (
        <Empty>You need an active meter to write an option.</Empty>
      ) : (
        <div className="stack">
          <div className="grid">
            <WindowFields active={active} value={span} onChange={setSpan} />
            <label>
              Strike ({token.symbol}/kWh)
              <input inputMode="decimal" value={strike} onChange={(e) => setStrike(e.target.value)} />
            </label>
            <label>
              Premium ({token.symbol})
              <input inputMode="decimal" value={premium} onChange={(e) => setPremium(e.target.value)} />
            </label>
          </div>
          {typeof offer === "string" ? (
            <p className="error">{offer}</p>
          ) : (
            <p className="note" data-testid="collateral">
              Collateral locked now: {token.money(offer.collateral)} (the penalty on every kWh, returned with
              delivery or expiry).
            </p>
          )}
          <div>
            <TxButton
              tx={tx}
              call={typeof offer === "string" ? undefined : offer.call}
              lock={typeof offer === "string" ? undefined : { token, allowance, amount: offer.collateral }}
            >
              Write option
            </TxButton>
          </div>
        </div>
      )}
      <h3>Options for sale</h3>
      {forSale.length === 0 ? (
        <Empty>No options for sale.</Empty>
      ) : (
        <ul>
          {forSale.map((r) => (
            <li key={r.w.id.toString()} className="row" data-id={r.w.id.toString()}>
              <span>
                #{r.w.id.toString()} by {shortAddress(r.w.writer)}: {describe(r)}
              </span>
              <TxButton
                tx={tx}
                lock={{ token, allowance, amount: r.o.premium }}
                call={{
                  address,
                  abi: optionMarketAbi,
                  functionName: "buy",
                  args: [r.w.id],
                  what: `Buy option #${r.w.id} for ${token.money(r.o.premium)}`,
                }}
              >
                Buy for {token.money(r.o.premium)}
              </TxButton>
            </li>
          ))}
        </ul>
      )}
      <h3>Your options</h3>
      {positions.length === 0 ? (
        <Empty>You have written or bought no options.</Empty>
      ) : (
        <ul>
          {positions.map((r) => {
            const total = windowWh(
              r.w.terms.firstInterval,
              r.w.terms.lastInterval,
              BigInt(r.w.terms.whPerInterval),
            );
            const escrow = buyerMargin(total, r.w.terms.strikePerKwh);
            const open = BigInt(now) < r.o.exerciseDeadline;
            return (
              <li key={r.w.id.toString()} className="row" data-id={r.w.id.toString()}>
                <span>
                  #{r.w.id.toString()} ({mine(r.w.writer) ? "written" : "held"}, {scheduleStatus[r.s.status]}
                  {r.s.status === 2 ? `, ${r.s.settledIntervals} intervals settled` : ""}): {describe(r)}
                </span>
                {mine(r.o.holder) && r.s.status === 1 && open ? (
                  <TxButton
                    tx={tx}
                    lock={{ token, allowance, amount: escrow }}
                    call={
                      meter === undefined
                        ? undefined
                        : {
                            address,
                            abi: optionMarketAbi,
                            functionName: "exercise",
                            args: [r.w.id, meter],
                            what: `Exercise option #${r.w.id} (escrows ${token.money(escrow)})`,
                          }
                    }
                  >
                    Exercise (escrow {token.money(escrow)})
                  </TxButton>
                ) : null}
                {mine(r.w.writer) && r.s.status === 1 && r.o.holder === zeroAddress ? (
                  <TxButton
                    tx={tx}
                    className="secondary"
                    call={plain("cancel", r.w.id, `Cancel option #${r.w.id}`)}
                  >
                    Cancel
                  </TxButton>
                ) : null}
                {r.s.status === 1 && !open ? (
                  <TxButton
                    tx={tx}
                    className="secondary"
                    call={plain("expire", r.w.id, `Expire option #${r.w.id}`)}
                  >
                    Expire
                  </TxButton>
                ) : null}
                <SettlementSummary
                  token={token}
                  settlement={settlementOf(data.settlements, r.w.id)}
                  owedWh={total}
                />
              </li>
            );
          })}
        </ul>
      )}
      <Withdrawable
        tx={tx}
        token={token}
        market={address}
        abi={optionMarketAbi}
        me={me}
        amount={data.withdrawable}
      />
      <TxStatus state={tx.state} />
    </div>
  );
}
