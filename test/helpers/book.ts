/**
 * A small order book for market tests: two sellers and two buyers around one interval, with
 * fills that clear it at 0.15 per kWh.
 */
import type { NetworkConnection } from "hardhat/types/network";

import { deployGridMesh, intervalClock, usd } from "./gridmesh.js";

export type Fill = { offerId: bigint; bidId: bigint; wh: bigint };
export const fill = (offerId: bigint, bidId: bigint, wh: bigint): Fill => ({ offerId, bidId, wh });

/**
 * Two sellers and two buyers around one interval:
 *   alice offers 3000 Wh at ≥ 0.10/kWh, bob 2000 Wh at ≥ 0.15/kWh,
 *   carol bids 2500 Wh at ≤ 0.20/kWh, dave 2000 Wh at ≤ 0.16/kWh.
 * Supply and demand cross at 0.15/kWh with 4500 Wh traded.
 */
export async function withBook(connection: NetworkConnection) {
  const clock = intervalClock(connection.networkHelpers);
  const g = await deployGridMesh(connection.ethers);
  const meters = {
    alice: await g.activeMeter(g.alice),
    bob: await g.activeMeter(g.bob),
    carol: await g.activeMeter(g.carol),
    dave: await g.activeMeter(g.dave),
  };
  for (const who of [g.alice, g.bob, g.carol, g.dave]) await g.fund(who, usd(100n));
  const t = await clock.openInterval();
  const m = g.market;
  await m.connect(g.alice).placeOffer(meters.alice.address, t, 3000n, 100_000n);
  await m.connect(g.bob).placeOffer(meters.bob.address, t, 2000n, 150_000n);
  await m.connect(g.carol).placeBid(meters.carol.address, t, 2500n, 200_000n);
  await m.connect(g.dave).placeBid(meters.dave.address, t, 2000n, 160_000n);
  const ids = { aliceOffer: 1n, bobOffer: 2n, carolBid: 3n, daveBid: 4n };
  const fills = [
    fill(ids.aliceOffer, ids.carolBid, 2500n),
    fill(ids.aliceOffer, ids.daveBid, 500n),
    fill(ids.bobOffer, ids.daveBid, 1500n),
  ];
  return { ...g, meters, t, ids, fills, price: 150_000n };
}
