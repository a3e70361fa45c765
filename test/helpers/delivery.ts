/**
 * Fixtures and helpers for the forward and option markets: the GridMesh set with its delivery
 * products, four funded parties with active meters, and the arithmetic the contracts promise (margins rounded up, payments rounded down).
 */
import { ZeroHash } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { deployGridMesh, intervalClock, usd } from "./gridmesh.js";

/** Token base units per kWh. */
export const PRICE = 150_000n;
/** Wh per interval of the standard contract. */
export const WH = 1000n;
/** Intervals in the standard window. */
export const WINDOW = 4n;
export const FUNDS = usd(100n);

export { lockFor, valueOf } from "@gridmesh/contracts";

export type PricingArgs = {
  basePrice: bigint;
  slope: bigint;
  referenceValue: bigint;
  floor: bigint;
  cap: bigint;
  indexId: string;
};

/** A fixed price: floor = cap = base, no index. */
export const fixedPrice = (price: bigint): PricingArgs => ({
  basePrice: price,
  slope: 0n,
  referenceValue: 0n,
  floor: price,
  cap: price,
  indexId: ZeroHash,
});

/** The tuple form of a Pricing, as events and getters return it. */
export const pricingTuple = (p: PricingArgs) => [
  p.basePrice,
  p.slope,
  p.referenceValue,
  p.floor,
  p.cap,
  p.indexId,
];

/** Schedule.status values. */
export const Status = { None: 0n, Proposed: 1n, Active: 2n, Closed: 3n } as const;

/**
 * The whole GridMesh set with meters for alice, bob, carol and dave, each funded with FUNDS and
 * every market approved, and `t0`, the first interval of a window whose gate is open for a while.
 */
export async function deployDelivery(connection: NetworkConnection) {
  const { ethers, networkHelpers } = connection;
  const clock = intervalClock(networkHelpers);
  const g = await deployGridMesh(ethers);

  const { forwards, options, oracle } = g;

  const meters = {
    alice: await g.activeMeter(g.alice),
    bob: await g.activeMeter(g.bob),
    carol: await g.activeMeter(g.carol),
    dave: await g.activeMeter(g.dave),
  };
  for (const who of [g.alice, g.bob, g.carol, g.dave]) await g.fund(who, FUNDS);
  const t0 = await clock.openInterval(5n);

  /** Every account the tests use. */
  const accounts = [g.admin, g.matcher, g.alice, g.bob, g.carol, g.dave, g.eve];

  return { ...g, forwards, options, oracle, clock, meters, t0, accounts };
}

export type Delivery = Awaited<ReturnType<typeof deployDelivery>>;
type Product = Delivery["forwards"] | Delivery["options"];

/** What `product` still holds locked for schedules `ids`: each margin less what was paid out of it. */
export async function unreleased(product: Product, ids: bigint[]) {
  let locked = 0n;
  for (const id of ids) {
    const s = await product.getSchedule(id);
    locked += s.sellerMargin - s.sellerMarginOut + s.buyerMargin - s.buyerMarginOut;
  }
  return locked;
}

/** The sum of every account's withdrawable balance in `product`. */
export async function balances(d: Delivery, product: Product) {
  let total = 0n;
  for (const a of d.accounts) total += await product.balanceOf(a.address);
  return total;
}
