import { type Address, lockFor } from "@gridmesh/contracts";

import type { TradeSide } from "../store/tradeOrders.js";
import type { Forecast } from "./forecast.js";

/** The owner's limits for this meter's address (MarketDelegation.Delegation); expiry 0 means none. */
export interface Delegation {
  maxWhPerInterval: bigint;
  minSellPricePerKwh: bigint;
  maxBuyPricePerKwh: bigint;
  expiry: bigint;
}

/** What the chain says, read just before deciding, for one meter, owner and target interval. */
export interface MarketSnapshot {
  /** Seconds: the later of the latest block's time and the agent's clock. */
  nowSeconds: bigint;
  interval: bigint;
  /** When orders for `interval` close. */
  gateClosure: bigint;
  paused: boolean;
  owner: Address;
  delegation: Delegation;
  /** Volume this meter's address already placed for the owner in `interval` (delegatedWh). */
  usedWh: bigint;
  /** The meter's owner in the registry (zero address when unknown there), and whether it is active. */
  meterOwner: Address;
  meterActive: boolean;
  /** The penalty per kWh new offers post as collateral. */
  penaltyPerKwh: bigint;
  /** The owner's payment tokens, and how many of them the market may draw. */
  ownerBalance: bigint;
  ownerAllowance: bigint;
  /** The meter address's native balance, which pays for its transactions. */
  meterGasWei: bigint;
}

export type SkipReason =
  | "no-delegation"
  | "delegation-expired"
  | "market-paused"
  | "not-owner"
  | "meter-inactive"
  | "gate-closed"
  | "already-placed"
  | "no-forecast"
  | "balanced"
  | "buying-not-allowed"
  | "volume-limit"
  | "insufficient-allowance"
  | "insufficient-balance"
  | "no-gas";

export type Decision =
  | {
      kind: "place";
      side: TradeSide;
      wh: bigint;
      pricePerKwh: bigint;
      /** Collateral (offer) or escrow (bid) the market draws from the owner. */
      deposit: bigint;
      /** The forecast's volume, when the delegation's limit cut the order down. */
      clippedFromWh?: bigint;
    }
  | { kind: "skip"; reason: SkipReason; message: string };

/** uint48, the order volume's type on-chain. */
const MAX_ORDER_WH = 2n ** 48n - 1n;

/**
 * The one order (or none, and why) the automatic trader places for the owner in the snapshot's
 * interval. The owner's rules are the delegation: a surplus is offered at the floor, a deficit bid
 * at the ceiling, at most the volume left of the per-interval limit. The checks come in the order
 * an owner would fix them, each with a message saying what is wrong; the contract checks the
 * same limits again, so a mistake here costs a refused transaction, never a trade outside them.
 */
export function decideOrder(s: MarketSnapshot, forecast: Forecast, minOrderWh: bigint): Decision {
  const skip = (reason: SkipReason, message: string): Decision => ({ kind: "skip", reason, message });
  const d = s.delegation;
  if (d.expiry === 0n)
    return skip("no-delegation", `${s.owner} has not authorised this meter to trade for it`);
  if (d.expiry <= s.nowSeconds)
    return skip("delegation-expired", `the delegation from ${s.owner} expired at ${d.expiry}`);
  if (s.paused) return skip("market-paused", "the market is paused");
  if (s.meterOwner.toLowerCase() !== s.owner.toLowerCase())
    return skip("not-owner", `the registry has this meter owned by ${s.meterOwner}, not ${s.owner}`);
  if (!s.meterActive) return skip("meter-inactive", "the meter is not active in the registry");
  if (s.nowSeconds >= s.gateClosure)
    return skip("gate-closed", `orders for interval ${s.interval} closed at ${s.gateClosure}`);
  // Only this meter's address spends this delegation, so any use of it means an order is there.
  if (s.usedWh > 0n)
    return skip("already-placed", `an order of ${s.usedWh} Wh is already placed for interval ${s.interval}`);
  if (forecast.kind === "none") return skip("no-forecast", forecast.reason);

  const net = BigInt(forecast.netWh);
  const want = net < 0n ? -net : net;
  if (want < minOrderWh)
    return skip("balanced", `forecast ${net} Wh is within ±${minOrderWh} Wh: nothing to trade`);
  const side: TradeSide = net > 0n ? "offer" : "bid";
  const pricePerKwh = side === "offer" ? d.minSellPricePerKwh : d.maxBuyPricePerKwh;
  if (side === "bid" && pricePerKwh === 0n)
    return skip(
      "buying-not-allowed",
      `the delegation's buy ceiling is 0: a ${want} Wh deficit is not bought`,
    );

  const left = d.maxWhPerInterval > s.usedWh ? d.maxWhPerInterval - s.usedWh : 0n;
  let wh = want < left ? want : left;
  if (wh > MAX_ORDER_WH) wh = MAX_ORDER_WH;
  if (wh < minOrderWh)
    return skip(
      "volume-limit",
      `the delegation leaves ${left} Wh for interval ${s.interval}, under the ${minOrderWh} Wh minimum order (forecast ${net} Wh)`,
    );

  const deposit = lockFor(wh, side === "offer" ? s.penaltyPerKwh : pricePerKwh);
  if (s.ownerAllowance < deposit)
    return skip(
      "insufficient-allowance",
      `the ${side} needs a deposit of ${deposit}, but ${s.owner} lets the market draw only ${s.ownerAllowance}`,
    );
  if (s.ownerBalance < deposit)
    return skip(
      "insufficient-balance",
      `the ${side} needs a deposit of ${deposit}, but ${s.owner} holds only ${s.ownerBalance}`,
    );
  if (s.meterGasWei === 0n) return skip("no-gas", "the meter's address has no funds for gas");
  return {
    kind: "place",
    side,
    wh,
    pricePerKwh,
    deposit,
    ...(wh < want && { clippedFromWh: want }),
  };
}
