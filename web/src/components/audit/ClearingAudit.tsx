"use client";

import { energyMarketAbi } from "@gridmesh/contracts";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { usePublicClient } from "wagmi";

import { useGateway } from "../../hooks/useGateway.js";
import { useToken } from "../../hooks/useToken.js";
import { auditClearing } from "../../lib/audit/recomputeClearing.js";
import type { ClearingSummary, Page } from "../../lib/gatewayTypes.js";
import { formatEnergy } from "../../lib/units.js";
import { useDeployment } from "../Providers.js";
import { QueryView } from "../States.js";

/**
 * Recompute any interval's clearing from the chain alone — the orders' events, less cancellations —
 * with the same clearing module the gateway runs, and compare it with the submitted clearing.
 */
export function ClearingAudit() {
  const client = usePublicClient();
  const { contracts } = useDeployment();
  const token = useToken();
  const latest = useGateway<Page<ClearingSummary>>("/v1/clearings?status=finalized&limit=500", 10_000);
  const [typed, setTyped] = useState("");
  const [interval, setInterval] = useState<bigint | undefined>(undefined);
  const fallback = latest.data?.items.filter((c) => c.volumeWh !== "0").at(-1)?.interval;

  const audit = useQuery({
    queryKey: ["audit-clearing", interval?.toString()],
    enabled: client !== undefined && interval !== undefined,
    queryFn: async () => {
      const address = contracts.energyMarket;
      const args = { interval: interval! };
      const range = { fromBlock: 0n, toBlock: "latest" as const };
      const [offers, bids, cancelled, batches] = await Promise.all([
        client!.getContractEvents({
          address,
          abi: energyMarketAbi,
          eventName: "OfferPlaced",
          args,
          ...range,
        }),
        client!.getContractEvents({ address, abi: energyMarketAbi, eventName: "BidPlaced", args, ...range }),
        client!.getContractEvents({
          address,
          abi: energyMarketAbi,
          eventName: "OrderCancelled",
          args,
          ...range,
        }),
        client!.getContractEvents({
          address,
          abi: energyMarketAbi,
          eventName: "ClearingBatchSubmitted",
          args,
          ...range,
        }),
      ]);
      return auditClearing({
        offers: offers.map((e) => ({
          orderId: e.args.orderId!,
          owner: e.args.owner!,
          maxWh: BigInt(e.args.maxWh!),
          minPricePerKwh: e.args.minPricePerKwh!,
        })),
        bids: bids.map((e) => ({
          orderId: e.args.orderId!,
          owner: e.args.owner!,
          maxWh: BigInt(e.args.maxWh!),
          maxPricePerKwh: e.args.maxPricePerKwh!,
        })),
        cancelled: cancelled.map((e) => e.args.orderId!),
        batches: batches.map((e) => ({
          batch: Number(e.args.batch!),
          price: e.args.price!,
          fills: e.args.fills!.map((f) => ({ offerId: f.offerId, bidId: f.bidId, wh: BigInt(f.wh) })),
        })),
      });
    },
  });

  return (
    <div className="stack" data-testid="clearing-audit">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const value = typed.trim() || fallback;
          if (value !== undefined && /^\d+$/.test(value)) setInterval(BigInt(value));
        }}
      >
        <label>
          Interval
          <input
            name="interval"
            inputMode="numeric"
            placeholder={fallback ?? "interval number"}
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
        </label>
        <button type="submit">Recompute</button>
      </form>
      {interval === undefined ? (
        <p className="note">
          Pick an interval{fallback !== undefined ? ` (the latest that traded is ${fallback})` : ""} and
          recompute its clearing from the chain.
        </p>
      ) : (
        <QueryView query={audit} what={`interval ${interval}'s events`}>
          {(a) => (
            <div className="stack">
              <p className={a.matches ? "ok" : "error"} data-testid="clearing-verdict">
                {a.matches
                  ? `Interval ${interval}: the submitted clearing matches the recomputation.`
                  : `Interval ${interval}: the submitted clearing does NOT match the recomputation.`}
              </p>
              <div className="stats">
                <div className="stat">
                  <div className="label">Recomputed price</div>
                  <div className="value">
                    {a.recomputed.volumeWh === 0n
                      ? "—"
                      : (token?.price(a.recomputed.price) ?? a.recomputed.price.toString())}
                  </div>
                </div>
                <div className="stat">
                  <div className="label">Submitted price</div>
                  <div className="value">
                    {a.onChain.price === undefined
                      ? "—"
                      : (token?.price(a.onChain.price) ?? a.onChain.price.toString())}
                  </div>
                </div>
                <div className="stat">
                  <div className="label">Recomputed volume</div>
                  <div className="value">{formatEnergy(a.recomputed.volumeWh)}</div>
                </div>
                <div className="stat">
                  <div className="label">Submitted volume</div>
                  <div className="value">{formatEnergy(a.onChain.volumeWh)}</div>
                </div>
              </div>
              {a.differences.length > 0 ? (
                <ul className="error">
                  {a.differences.map((d) => (
                    <li key={d}>{d}</li>
                  ))}
                </ul>
              ) : null}
              <p className="note">
                {a.recomputed.fills.length} fills recomputed, {a.onChain.fills.length} submitted in{" "}
                {a.onChain.batches} batches.
              </p>
            </div>
          )}
        </QueryView>
      )}
    </div>
  );
}
