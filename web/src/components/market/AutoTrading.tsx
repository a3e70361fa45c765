"use client";

import { energyMarketAbi, testDollarAbi } from "@gridmesh/contracts";
import { useState } from "react";
import type { Address } from "viem";
import { useReadContracts } from "wagmi";

import { useChainTime } from "../../hooks/useChainTime.js";
import { useContractTx } from "../../hooks/useContractTx.js";
import { useMyMeters } from "../../hooks/useMyMeters.js";
import { useToken } from "../../hooks/useToken.js";
import { formatTime } from "../../lib/format.js";
import { formatEnergy, parseUnits } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { ConnectFirst, Empty } from "../States.js";
import { TxStatus } from "../TxStatus.js";

/**
 * Automatic trading (seed 002's "transaction matchmaker"): the user's rules are an on-chain
 * delegation to the home's meter agent — sell surplus at no less than a floor, buy shortfall at no
 * more than a ceiling, at most so much per interval, until an expiry. The contract enforces every
 * limit; the agent signs with the meter's key and never holds the wallet's. Deposits come from the
 * wallet, so the market also needs an allowance for them.
 */
export function AutoTrading() {
  const { contracts } = useDeployment();
  const token = useToken();
  const { now } = useChainTime();
  const { address, data: meters, active } = useMyMeters();
  const tx = useContractTx();
  const [kwh, setKwh] = useState("2");
  const [floor, setFloor] = useState("0.10");
  const [ceiling, setCeiling] = useState("0.20");
  const [days, setDays] = useState("30");
  const [allowance, setAllowance] = useState("50");

  const { data: rules } = useReadContracts({
    contracts: [
      ...active.map((m) => ({
        address: contracts.energyMarket,
        abi: energyMarketAbi,
        functionName: "delegationOf" as const,
        args: [address!, m.meter as Address] as const,
      })),
      {
        address: token?.address,
        abi: testDollarAbi,
        functionName: "allowance" as const,
        args: [address!, contracts.energyMarket] as const,
      },
    ],
    allowFailure: false,
    query: {
      enabled: address !== undefined && token !== undefined && meters !== undefined,
      refetchInterval: 5_000,
    },
  });

  if (address === undefined) return <ConnectFirst to="set automatic trading rules" />;
  if (meters !== undefined && active.length === 0)
    return <Empty>Automatic trading needs an active meter.</Empty>;
  if (token === undefined || rules === undefined || now === undefined)
    return <p className="note">Reading your rules…</p>;

  const delegations = rules.slice(0, active.length) as {
    maxWhPerInterval: number;
    minSellPricePerKwh: bigint;
    maxBuyPricePerKwh: bigint;
    expiry: bigint;
  }[];
  const currentAllowance = rules[active.length] as bigint;

  const authorize = async (meter: Address) => {
    try {
      const wh = parseUnits(kwh, 3);
      const floorUnits = parseUnits(floor, token.decimals);
      const ceilingUnits = parseUnits(ceiling, token.decimals);
      const allowanceUnits = parseUnits(allowance, token.decimals);
      const expiry = BigInt(now + Math.round(Number(days) * 86_400));
      if (wh <= 0n || !(Number(days) > 0))
        throw new Error("the volume and the number of days must be above zero");
      await tx.send([
        {
          address: contracts.energyMarket,
          abi: energyMarketAbi,
          functionName: "authorizeDelegate",
          args: [meter, wh, floorUnits, ceilingUnits, expiry],
          what: `Let meter ${meter.slice(0, 8)}… trade up to ${formatEnergy(wh)} per interval`,
        },
        ...(allowanceUnits !== currentAllowance
          ? [
              {
                address: token.address,
                abi: testDollarAbi,
                functionName: "approve",
                args: [contracts.energyMarket, allowanceUnits],
                what: `Let the market lock up to ${token.money(allowanceUnits)} for your orders`,
              },
            ]
          : []),
      ]);
    } catch (e) {
      alert((e as Error).message);
    }
  };

  return (
    <div className="stack" data-testid="auto-trading">
      <div className="grid">
        <label>
          Most energy per interval (kWh)
          <input inputMode="decimal" value={kwh} onChange={(e) => setKwh(e.target.value)} />
        </label>
        <label>
          Sell surplus at no less than ({token.symbol}/kWh)
          <input inputMode="decimal" value={floor} onChange={(e) => setFloor(e.target.value)} />
        </label>
        <label>
          Buy shortfall at no more than ({token.symbol}/kWh)
          <input inputMode="decimal" value={ceiling} onChange={(e) => setCeiling(e.target.value)} />
        </label>
        <label>
          For (days)
          <input inputMode="decimal" value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <label>
          Deposits the market may lock ({token.symbol})
          <input inputMode="decimal" value={allowance} onChange={(e) => setAllowance(e.target.value)} />
        </label>
      </div>
      <p className="note">The market may now lock up to {token.money(currentAllowance)} of your tokens.</p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Meter (its agent trades)</th>
              <th>Rule</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {active.map((m, i) => {
              const d = delegations[i]!;
              const live = d.expiry > BigInt(now);
              return (
                <tr key={m.meter}>
                  <td className="mono">{m.meter}</td>
                  <td>
                    {live
                      ? `sell ≥ ${token.price(d.minSellPricePerKwh)}, buy ≤ ${token.price(d.maxBuyPricePerKwh)}, ≤ ${formatEnergy(BigInt(d.maxWhPerInterval))}/interval, until ${formatTime(Number(d.expiry))}`
                      : d.expiry === 0n
                        ? "none"
                        : "expired"}
                  </td>
                  <td className="row">
                    <button onClick={() => void authorize(m.meter as Address)}>
                      {live ? "Replace" : "Set"} rule
                    </button>
                    {live ? (
                      <button
                        className="secondary"
                        onClick={() =>
                          void tx.send([
                            {
                              address: contracts.energyMarket,
                              abi: energyMarketAbi,
                              functionName: "revokeDelegate",
                              args: [m.meter],
                              what: `Stop automatic trading by ${m.meter.slice(0, 8)}…`,
                            },
                          ])
                        }
                      >
                        Stop
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <TxStatus state={tx.state} />
    </div>
  );
}
