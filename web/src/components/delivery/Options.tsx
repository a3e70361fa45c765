"use client";

import { intervalTimes, nextOpenInterval, optionMarketAbi, testDollarAbi } from "@gridmesh/contracts";
import { useState } from "react";
import { zeroAddress, type Address } from "viem";
import { useReadContracts } from "wagmi";

import { useChainTime } from "../../hooks/useChainTime.js";
import { useContractEventLog } from "../../hooks/useContractEvents.js";
import { useContractTx, type ContractCall } from "../../hooks/useContractTx.js";
import { useMyMeters } from "../../hooks/useMyMeters.js";
import { useToken } from "../../hooks/useToken.js";
import { buyerMargin, scheduleStatus, sellerMargin, windowWh } from "../../lib/deliveryMath.js";
import { formatDuration, shortAddress } from "../../lib/format.js";
import { formatEnergy, parseUnits } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { ConnectFirst, Empty } from "../States.js";
import { TxStatus } from "../TxStatus.js";
import { withApproval } from "./Forwards.js";
import { MeterSelect } from "./MeterSelect.js";

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
  const { address: me, data: meters } = useMyMeters();
  const tx = useContractTx();
  const [meter, setMeter] = useState("");
  const [startIn, setStartIn] = useState("4");
  const [count, setCount] = useState("4");
  const [kwh, setKwh] = useState("0.5");
  const [strike, setStrike] = useState("0.15");
  const [premium, setPremium] = useState("0.05");

  const events = useContractEventLog(address, optionMarketAbi, ["OptionWritten"]);
  const written: Written[] = (events.data ?? []).map((e) => e.args as unknown as Written);
  const { data: chain } = useReadContracts({
    contracts: [
      ...written.map((w) => ({
        address: address!,
        abi: optionMarketAbi,
        functionName: "getOption" as const,
        args: [w.id] as const,
      })),
      ...written.map((w) => ({
        address: address!,
        abi: optionMarketAbi,
        functionName: "getSchedule" as const,
        args: [w.id] as const,
      })),
      { address: address!, abi: optionMarketAbi, functionName: "penaltyPerKwh" as const },
      {
        address: token?.address,
        abi: testDollarAbi,
        functionName: "allowance" as const,
        args: [me!, address!] as const,
      },
    ],
    allowFailure: false,
    query: {
      enabled: address !== null && me !== undefined && token !== undefined && events.data !== undefined,
      refetchInterval: 4_000,
    },
  });

  if (address === null) return <Empty>No option market is deployed on this chain.</Empty>;
  if (me === undefined) return <ConnectFirst to="trade options" />;
  if (token === undefined || chain === undefined || now === undefined)
    return <p className="note">Reading options…</p>;
  const active = meters?.items.filter((m) => m.status === "active") ?? [];
  const n = written.length;
  const held = chain.slice(0, n) as unknown as {
    premium: bigint;
    exerciseDeadline: bigint;
    holder: Address;
  }[];
  const schedules = chain.slice(n, 2 * n) as unknown as Schedule[];
  const penalty = chain[2 * n] as bigint;
  const allowance = chain[2 * n + 1] as bigint;
  const chosenMeter = (meter || active[0]?.meter) as Address | undefined;
  const mine = (a: Address) => a.toLowerCase() === me.toLowerCase();

  let offer: { call: ContractCall; collateral: bigint } | string;
  try {
    const first = BigInt(nextOpenInterval(market, now) + Number(startIn));
    const last = first + BigInt(count) - 1n;
    const wh = parseUnits(kwh, 3);
    const k = parseUnits(strike, token.decimals);
    const prem = parseUnits(premium, token.decimals);
    if (wh <= 0n || k <= 0n || last < first)
      throw new Error("volume, strike and intervals must be above zero");
    if (chosenMeter === undefined) throw new Error("you need an active meter");
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
          chosenMeter,
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
            <MeterSelect meters={active} value={chosenMeter ?? ""} onChange={setMeter} />
            <label>
              Starts after (open intervals from now)
              <input inputMode="numeric" value={startIn} onChange={(e) => setStartIn(e.target.value)} />
            </label>
            <label>
              Intervals
              <input inputMode="numeric" value={count} onChange={(e) => setCount(e.target.value)} />
            </label>
            <label>
              Energy per interval (kWh)
              <input inputMode="decimal" value={kwh} onChange={(e) => setKwh(e.target.value)} />
            </label>
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
            <p className="note">
              Collateral locked now: {token.money(offer.collateral)} (the penalty on every kWh, returned with
              delivery or expiry).
            </p>
          )}
          <div>
            <button
              disabled={typeof offer === "string"}
              onClick={() =>
                typeof offer !== "string" &&
                void tx.send(withApproval(token, address, allowance, offer.collateral, offer.call))
              }
            >
              Write option
            </button>
          </div>
        </div>
      )}
      <h3>Options for sale</h3>
      {forSale.length === 0 ? (
        <Empty>No options for sale.</Empty>
      ) : (
        <ul>
          {forSale.map((r) => (
            <li key={r.w.id.toString()} className="row">
              <span>
                #{r.w.id.toString()} by {shortAddress(r.w.writer)}: {describe(r)}
              </span>
              <button
                onClick={() =>
                  void tx.send(
                    withApproval(token, address, allowance, r.o.premium, {
                      address,
                      abi: optionMarketAbi,
                      functionName: "buy",
                      args: [r.w.id],
                      what: `Buy option #${r.w.id} for ${token.money(r.o.premium)}`,
                    }),
                  )
                }
              >
                Buy for {token.money(r.o.premium)}
              </button>
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
              <li key={r.w.id.toString()} className="row">
                <span>
                  #{r.w.id.toString()} ({mine(r.w.writer) ? "written" : "held"}, {scheduleStatus[r.s.status]}
                  {r.s.status === 2 ? `, ${r.s.settledIntervals} intervals settled` : ""}): {describe(r)}
                </span>
                {mine(r.o.holder) && r.s.status === 1 && open ? (
                  <button
                    disabled={chosenMeter === undefined}
                    onClick={() =>
                      void tx.send(
                        withApproval(token, address, allowance, escrow, {
                          address,
                          abi: optionMarketAbi,
                          functionName: "exercise",
                          args: [r.w.id, chosenMeter!],
                          what: `Exercise option #${r.w.id} (escrows ${token.money(escrow)})`,
                        }),
                      )
                    }
                  >
                    Exercise (escrow {token.money(escrow)})
                  </button>
                ) : null}
                {mine(r.w.writer) && r.s.status === 1 && r.o.holder === zeroAddress ? (
                  <button
                    className="secondary"
                    onClick={() =>
                      void tx.send([
                        {
                          address,
                          abi: optionMarketAbi,
                          functionName: "cancel",
                          args: [r.w.id],
                          what: `Cancel option #${r.w.id}`,
                        },
                      ])
                    }
                  >
                    Cancel
                  </button>
                ) : null}
                {r.s.status === 1 && !open ? (
                  <button
                    className="secondary"
                    onClick={() =>
                      void tx.send([
                        {
                          address,
                          abi: optionMarketAbi,
                          functionName: "expire",
                          args: [r.w.id],
                          what: `Expire option #${r.w.id}`,
                        },
                      ])
                    }
                  >
                    Expire
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      <TxStatus state={tx.state} />
    </div>
  );
}
