"use client";

import { forwardMarketAbi } from "@gridmesh/contracts";
import { useState, type ReactNode } from "react";
import { zeroAddress, zeroHash, type Address } from "viem";

import { useChainTime } from "../../hooks/useChainTime.js";
import { useContractTx, type ContractCall } from "../../hooks/useContractTx.js";
import { useDeliveryMarket } from "../../hooks/useDeliveryMarket.js";
import { useMyMeters } from "../../hooks/useMyMeters.js";
import { useToken, type TokenInfo } from "../../hooks/useToken.js";
import { buyerMargin, scheduleStatus, sellerMargin, settlementOf, windowWh } from "../../lib/deliveryMath.js";
import { shortAddress } from "../../lib/format.js";
import { formatEnergy, parseUnits } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { ConnectFirst, Empty, QueryView } from "../States.js";
import { TxButton } from "../TxButton.js";
import { TxStatus } from "../TxStatus.js";
import { SettlementSummary, Withdrawable } from "./Settlement.js";
import { chosenMeter, parseWindow, useWindowInput, WindowFields } from "./WindowFields.js";

interface Schedule {
  seller: Address;
  buyer: Address;
  status: number;
  firstInterval: bigint;
  lastInterval: bigint;
  whPerInterval: number;
  penaltyPerKwh: bigint;
  settledIntervals: number;
  shortfall: boolean;
  pricing: { basePrice: bigint; cap: bigint; indexId: `0x${string}` };
}

/** Forward contracts (seed 001): lock a price now for energy delivered over a future window. */
export function Forwards() {
  const { contracts, market } = useDeployment();
  const address = contracts.forwardMarket;
  const token = useToken();
  const { now } = useChainTime();
  const { address: me, active } = useMyMeters();
  const tx = useContractTx();
  const [side, setSide] = useState<"sell" | "buy">("sell");
  const [span, setSpan] = useWindowInput({ startIn: "2", count: "4", kwh: "0.5" });
  const [price, setPrice] = useState("0.14");
  const [counterparty, setCounterparty] = useState("");

  const { events, data } = useDeliveryMarket(
    address,
    forwardMarketAbi,
    "ForwardProposed",
    ["getSchedule", "counterpartyOf"],
    me,
    token?.address,
  );

  if (address === null) return <Empty>No forward market is deployed on this chain.</Empty>;
  if (me === undefined) return <ConnectFirst to="trade forwards" />;
  if (token === undefined || data === undefined || now === undefined)
    return <p className="note">Reading forwards…</p>;

  const ids = data.created.map((e) => e.args.id as bigint);
  const [schedules, counterparties] = data.perId as [Schedule[], Address[]];
  const { penaltyPerKwh: penalty, allowance } = data;
  const meter = chosenMeter(span, active);
  const mine = (a: Address) => a.toLowerCase() === me.toLowerCase();

  let proposal: { call: ContractCall; margin: bigint } | string;
  try {
    const { first, last, wh, meter: m } = parseWindow(span, active, market, now);
    const p = parseUnits(price, token.decimals);
    if (p <= 0n) throw new Error("the price must be above zero");
    const total = windowWh(first, last, wh);
    const margin = side === "sell" ? sellerMargin(total, penalty) : buyerMargin(total, p);
    const cp = counterparty.trim() === "" ? zeroAddress : (counterparty.trim() as Address);
    proposal = {
      margin,
      call: {
        address,
        abi: forwardMarketAbi,
        functionName: "propose",
        args: [
          {
            firstInterval: first,
            lastInterval: last,
            whPerInterval: wh,
            pricing: { basePrice: p, slope: 0n, referenceValue: 0n, floor: p, cap: p, indexId: zeroHash },
          },
          side === "sell",
          m,
          cp,
        ],
        what: `Propose to ${side} ${formatEnergy(total)} over intervals ${first}–${last} at ${token.price(p)}`,
      },
    };
  } catch (e) {
    proposal = (e as Error).message;
  }

  const rows = ids.map((id, i) => ({ id, s: schedules[i]!, counterparty: counterparties[i]! }));
  const open = rows.filter(
    (r) =>
      r.s.status === 1 &&
      !mine(r.s.seller === zeroAddress ? r.s.buyer : r.s.seller) &&
      (r.counterparty === zeroAddress || mine(r.counterparty)),
  );
  const positions = rows.filter((r) => mine(r.s.seller) || mine(r.s.buyer));

  return (
    <div className="stack" data-testid="forwards">
      <h3>Propose a forward</h3>
      {active.length === 0 ? (
        <Empty>You need an active meter to propose a forward.</Empty>
      ) : (
        <div className="stack">
          <div className="row">
            {(["sell", "buy"] as const).map((s) => (
              <label key={s} className="row">
                <input type="radio" checked={side === s} onChange={() => setSide(s)} />{" "}
                {s === "sell" ? "Sell" : "Buy"}
              </label>
            ))}
          </div>
          <div className="grid">
            <WindowFields active={active} value={span} onChange={setSpan} />
            <label>
              Fixed price ({token.symbol}/kWh)
              <input inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
            </label>
            <label>
              Only for (address, optional)
              <input
                value={counterparty}
                onChange={(e) => setCounterparty(e.target.value)}
                placeholder="anyone"
              />
            </label>
          </div>
          {typeof proposal === "string" ? (
            <p className="error">{proposal}</p>
          ) : (
            <p className="note" data-testid="margin">
              Margin locked now: {token.money(proposal.margin)}{" "}
              {side === "sell"
                ? `(the ${token.price(penalty)} penalty on every kWh, against not delivering)`
                : "(every kWh at the price)"}
              .
            </p>
          )}
          <div>
            <TxButton
              tx={tx}
              call={typeof proposal === "string" ? undefined : proposal.call}
              lock={typeof proposal === "string" ? undefined : { token, allowance, amount: proposal.margin }}
            >
              Propose
            </TxButton>
          </div>
        </div>
      )}
      <h3>Open proposals you can accept</h3>
      <QueryView
        query={events}
        what="forward proposals"
        isEmpty={() => open.length === 0}
        empty="No open proposals."
      >
        {() => (
          <ScheduleTable
            token={token}
            rows={open}
            action={(r) => {
              const total = windowWh(r.s.firstInterval, r.s.lastInterval, BigInt(r.s.whPerInterval));
              const acceptorSells = r.s.seller === zeroAddress;
              const margin = acceptorSells
                ? sellerMargin(total, r.s.penaltyPerKwh)
                : buyerMargin(total, r.s.pricing.cap);
              return (
                <TxButton
                  tx={tx}
                  title={`locks ${token.money(margin)}`}
                  lock={{ token, allowance, amount: margin }}
                  call={
                    meter === undefined
                      ? undefined
                      : {
                          address,
                          abi: forwardMarketAbi,
                          functionName: "accept",
                          args: [r.id, meter],
                          what: `Accept forward #${r.id} (${acceptorSells ? "you sell" : "you buy"}; locks ${token.money(margin)})`,
                        }
                  }
                >
                  Accept ({acceptorSells ? "sell" : "buy"}, lock {token.money(margin)})
                </TxButton>
              );
            }}
          />
        )}
      </QueryView>
      <h3>Your forwards</h3>
      {positions.length === 0 ? (
        <Empty>You have no forwards.</Empty>
      ) : (
        <ScheduleTable
          token={token}
          rows={positions}
          action={(r) =>
            r.s.status === 1 ? (
              <TxButton
                tx={tx}
                className="secondary"
                call={{
                  address,
                  abi: forwardMarketAbi,
                  functionName: "cancelProposal",
                  args: [r.id],
                  what: `Withdraw proposal #${r.id}`,
                }}
              >
                Withdraw
              </TxButton>
            ) : null
          }
          settlement={(r) => (
            <SettlementSummary
              token={token}
              settlement={settlementOf(data.settlements, r.id)}
              owedWh={windowWh(r.s.firstInterval, r.s.lastInterval, BigInt(r.s.whPerInterval))}
            />
          )}
        />
      )}
      <Withdrawable
        tx={tx}
        token={token}
        market={address}
        abi={forwardMarketAbi}
        me={me}
        amount={data.withdrawable}
      />
      <TxStatus state={tx.state} />
    </div>
  );
}

function ScheduleTable({
  token,
  rows,
  action,
  settlement,
}: {
  token: TokenInfo;
  rows: { id: bigint; s: Schedule }[];
  action: (r: { id: bigint; s: Schedule }) => ReactNode;
  /** A column with each row's settlement, for the user's own positions. */
  settlement?: (r: { id: bigint; s: Schedule }) => ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Seller</th>
            <th>Buyer</th>
            <th>Intervals</th>
            <th className="num">Per interval</th>
            <th className="num">Price</th>
            <th>Status</th>
            <th className="num">Settled</th>
            {settlement === undefined ? null : <th>Settlement</th>}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id.toString()} data-id={r.id.toString()}>
              <td>{r.id.toString()}</td>
              <td className="mono">{r.s.seller === zeroAddress ? "—" : shortAddress(r.s.seller)}</td>
              <td className="mono">{r.s.buyer === zeroAddress ? "—" : shortAddress(r.s.buyer)}</td>
              <td>
                {r.s.firstInterval.toString()}–{r.s.lastInterval.toString()}
              </td>
              <td className="num">{formatEnergy(BigInt(r.s.whPerInterval))}</td>
              <td className="num">{token.price(r.s.pricing.cap)}</td>
              <td>
                {scheduleStatus[r.s.status] ?? r.s.status}
                {r.s.shortfall ? " (shortfall)" : ""}
              </td>
              <td className="num">
                {r.s.settledIntervals} / {(r.s.lastInterval - r.s.firstInterval + 1n).toString()}
              </td>
              {settlement === undefined ? null : (
                // Wrapped, unlike the other cells: it is a sentence.
                <td style={{ whiteSpace: "normal", minWidth: "16rem" }}>{settlement(r)}</td>
              )}
              <td>{action(r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
