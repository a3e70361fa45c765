import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Address } from "../typedData.js";
import { batchFills } from "./batchFills.js";
import { type ClearingBid, ClearingInputError, type ClearingOffer } from "./book.js";
import { type ComputeClearingReturnType, computeClearing } from "./computeClearing.js";

// ---------------------------------------------------------------- helpers

/** xorshift32: a few lines, seedable, plenty for drawing test books. */
function random(seed: number) {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const int = (lo: number, hi: number) => lo + (next() % (hi - lo + 1));
  return {
    int,
    chance: (p: number) => next() / 2 ** 32 < p,
    shuffle<T>(items: readonly T[]): T[] {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}
type Random = ReturnType<typeof random>;

/** Owner n's address; mixed case on request, which must not change anything. */
function owner(n: number, upper = false): Address {
  const hex = `ab${"0".repeat(36)}${n.toString(16).padStart(2, "0")}`;
  return `0x${upper ? hex.toUpperCase() : hex}`;
}

const offer = (id: number, who: number, price: number, wh: number): ClearingOffer => ({
  id: BigInt(id),
  owner: owner(who),
  minPricePerKwh: BigInt(price),
  wh: BigInt(wh),
});
const bid = (id: number, who: number, price: number, wh: number): ClearingBid => ({
  id: BigInt(id),
  owner: owner(who),
  maxPricePerKwh: BigInt(price),
  wh: BigInt(wh),
});

interface Shape {
  maxOrders: number;
  owners: number;
  maxPrice: number;
  maxWh: number;
}

/** A random book; ids are a shuffled range, so placement order and side are unrelated. */
function randomBook(rng: Random, shape: Shape) {
  const count = rng.int(0, shape.maxOrders);
  const ids = rng.shuffle(Array.from({ length: count }, (_, i) => i + 1));
  const offers: ClearingOffer[] = [];
  const bids: ClearingBid[] = [];
  for (const id of ids) {
    const who = rng.int(1, shape.owners);
    const wh = rng.int(1, shape.maxWh);
    if (rng.chance(0.5)) offers.push(offer(id, who, rng.int(0, shape.maxPrice), wh));
    else bids.push(bid(id, who, rng.int(1, shape.maxPrice), wh));
  }
  return { offers, bids };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Every rule EnergyMarket.submitClearing enforces, plus the result's own bookkeeping. */
function assertValid(offers: ClearingOffer[], bids: ClearingBid[], r: ComputeClearingReturnType) {
  if (r.volumeWh === 0n) {
    assert.equal(r.price, 0n);
    assert.deepEqual(r.fills, []);
    return;
  }
  assert.ok(r.price >= 1n && r.price < 1n << 96n, `price ${r.price}`);
  const offerById = new Map(offers.map((o) => [o.id, o]));
  const bidById = new Map(bids.map((b) => [b.id, b]));
  const sold = new Map<bigint, bigint>();
  const bought = new Map<bigint, bigint>();
  let total = 0n;
  r.fills.forEach((f, i) => {
    const prev = r.fills[i - 1];
    if (prev) {
      assert.ok(prev.offerId < f.offerId || (prev.offerId === f.offerId && prev.bidId < f.bidId), "sorted");
    }
    const o = offerById.get(f.offerId);
    const b = bidById.get(f.bidId);
    assert.ok(o && b, "fill joins an offer and a bid");
    assert.ok(f.wh > 0n, "positive");
    assert.ok(!same(o.owner, b.owner), `self-trade ${f.offerId}/${f.bidId}`);
    assert.ok(o.minPricePerKwh <= r.price, `below offer ${o.id}'s minimum`);
    assert.ok(r.price <= b.maxPricePerKwh, `above bid ${b.id}'s maximum`);
    sold.set(o.id, (sold.get(o.id) ?? 0n) + f.wh);
    bought.set(b.id, (bought.get(b.id) ?? 0n) + f.wh);
    total += f.wh;
  });
  for (const [id, wh] of sold) assert.ok(wh <= offerById.get(id)!.wh, `offer ${id} oversold`);
  for (const [id, wh] of bought) assert.ok(wh <= bidById.get(id)!.wh, `bid ${id} overbought`);
  assert.equal(total, r.volumeWh);
  assert.ok(r.fills.length < sold.size + bought.size + 6, "fill count bound");
  assert.deepEqual(
    [...r.offersFilledWh],
    [...sold].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
  assert.deepEqual(
    [...r.bidsFilledWh],
    [...bought].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
}

/**
 * The best clearing by exhaustion, sharing no code with the module: every integer price, and at
 * each every allocation of every self-trade-free (offer, bid) pair (memoised on what is left).
 */
function bruteForce(offers: ClearingOffer[], bids: ClearingBid[], maxPrice: number) {
  let best = { volume: 0, price: 0 };
  for (let p = 1; p <= maxPrice + 1; p++) {
    const os = offers.filter((o) => o.minPricePerKwh <= BigInt(p));
    const bs = bids.filter((b) => b.maxPricePerKwh >= BigInt(p));
    const pairs: [number, number][] = [];
    os.forEach((o, i) => bs.forEach((b, j) => !same(o.owner, b.owner) && pairs.push([i, os.length + j])));
    const memo = new Map<string, number>();
    const most = (k: number, left: number[]): number => {
      if (k === pairs.length) return 0;
      const key = `${k}|${left.join(",")}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      const [s, d] = pairs[k]!;
      let top = 0;
      for (let wh = 0; wh <= Math.min(left[s]!, left[d]!); wh++) {
        const next = left.slice();
        next[s]! -= wh;
        next[d]! -= wh;
        top = Math.max(top, wh + most(k + 1, next));
      }
      memo.set(key, top);
      return top;
    };
    const volume = most(
      0,
      [...os, ...bs].map((o) => Number(o.wh)),
    );
    if (volume > best.volume) best = { volume, price: p };
  }
  return best;
}

/**
 * Priority on one side: an order trades only if every order ahead of it trades in full — except
 * for the one owner allocate may cut, so every exception must involve that same owner.
 */
function assertPriority<T extends { id: bigint; owner: Address; wh: bigint }>(
  orders: T[],
  limit: (o: T) => bigint,
  filled: Map<bigint, bigint>,
) {
  const queue = orders
    .slice()
    .sort((a, b) => (limit(a) !== limit(b) ? (limit(a) < limit(b) ? -1 : 1) : a.id < b.id ? -1 : 1));
  let cut: Set<string> | undefined;
  queue.forEach((ahead, i) => {
    if ((filled.get(ahead.id) ?? 0n) === ahead.wh) return;
    for (const behind of queue.slice(i + 1)) {
      if ((filled.get(behind.id) ?? 0n) === 0n) continue;
      const pair = new Set([ahead.owner.toLowerCase(), behind.owner.toLowerCase()]);
      assert.equal(pair.size, 2, "an owner's own orders trade out of priority");
      cut = new Set([...(cut ?? pair)].filter((who) => pair.has(who)));
      assert.ok(cut.size > 0, "orders of more than one owner trade out of priority");
    }
  });
}

/** Fill shares in priority order must read full, …, full, partial, none, …, none. */
function assertPrefix(filled: bigint[], volumes: bigint[]) {
  let open = true;
  filled.forEach((wh, i) => {
    if (!open) assert.equal(wh, 0n, "an order behind an unfilled one trades");
    if (wh < volumes[i]!) open = false;
  });
}

// ------------------------------------------------------------------ examples

describe("computeClearing examples", () => {
  it("clears an empty book to nothing", () => {
    assert.deepEqual(computeClearing({ offers: [], bids: [] }), {
      price: 0n,
      volumeWh: 0n,
      fills: [],
      offersFilledWh: new Map(),
      bidsFilledWh: new Map(),
    });
    assert.equal(computeClearing({ offers: [offer(1, 1, 5, 10)], bids: [] }).volumeWh, 0n);
    assert.equal(computeClearing({ offers: [], bids: [bid(1, 1, 5, 10)] }).volumeWh, 0n);
  });

  it("trades nothing when no bid reaches any offer", () => {
    const r = computeClearing({ offers: [offer(1, 1, 120, 500)], bids: [bid(2, 2, 119, 500)] });
    assert.equal(r.volumeWh, 0n);
    assert.equal(r.price, 0n);
  });

  it("clears an exact cross at the common price", () => {
    const r = computeClearing({ offers: [offer(1, 1, 150, 700)], bids: [bid(2, 2, 150, 700)] });
    assert.equal(r.price, 150n);
    assert.deepEqual(r.fills, [{ offerId: 1n, bidId: 2n, wh: 700n }]);
  });

  it("clears seed 001's two-consumer example at the marginal offer", () => {
    // Offers 20/5, 30/20, 45/5, 55/10 and bids 50/10, 60/10 (price/volume).
    const offers = [offer(1, 1, 20, 5), offer(2, 2, 30, 20), offer(3, 3, 45, 5), offer(4, 4, 55, 10)];
    const bids = [bid(5, 5, 50, 10), bid(6, 6, 60, 10)];
    const r = computeClearing({ offers, bids });
    assert.equal(r.price, 30n);
    assert.equal(r.volumeWh, 20n);
    assert.deepEqual(
      [...r.offersFilledWh],
      [
        [1n, 5n],
        [2n, 15n],
      ],
    );
    assert.deepEqual(
      [...r.bidsFilledWh],
      [
        [5n, 10n],
        [6n, 10n],
      ],
    );
    assertValid(offers, bids, r);
  });

  it("fills partially at the margin", () => {
    const offers = [offer(1, 1, 10, 400), offer(2, 2, 12, 400)];
    const bids = [bid(3, 3, 15, 300), bid(4, 4, 11, 300)];
    const r = computeClearing({ offers, bids });
    // At 10 only 400 Wh are offered; at 11 still; at 12 only bid 3 (300 Wh) remains: 400 at 10.
    assert.equal(r.price, 10n);
    assert.deepEqual(r.fills, [
      { offerId: 1n, bidId: 3n, wh: 300n },
      { offerId: 1n, bidId: 4n, wh: 100n },
    ]);
  });

  it("breaks price ties by placement order (order id)", () => {
    const offers = [offer(7, 1, 10, 100), offer(3, 2, 10, 100), offer(5, 3, 10, 100)];
    const bids = [bid(9, 4, 20, 150), bid(8, 5, 20, 100), bid(2, 6, 20, 100)];
    const r = computeClearing({ offers, bids });
    assert.equal(r.volumeWh, 300n);
    // All offers trade; of the bids, 2 and 8 in full and the latest, 9, for the remaining 100.
    assert.deepEqual(
      [...r.bidsFilledWh],
      [
        [2n, 100n],
        [8n, 100n],
        [9n, 100n],
      ],
    );
    const r2 = computeClearing({
      offers: [offer(7, 1, 10, 100), offer(3, 2, 10, 100)],
      bids: [bid(9, 4, 20, 150)],
    });
    assert.deepEqual(
      [...r2.offersFilledWh],
      [
        [3n, 100n],
        [7n, 50n],
      ],
    );
  });

  it("prices an ask of 0 at 1, the lowest price the contract takes", () => {
    const r = computeClearing({ offers: [offer(1, 1, 0, 10)], bids: [bid(2, 2, 1, 10)] });
    assert.equal(r.price, 1n);
    assert.equal(r.volumeWh, 10n);
  });

  it("never pairs an owner with itself, even when it is the only counterparty", () => {
    const r = computeClearing({ offers: [offer(1, 1, 10, 100)], bids: [bid(2, 1, 20, 100)] });
    assert.equal(r.volumeWh, 0n);
    const mixedCase = computeClearing({
      offers: [{ ...offer(1, 1, 10, 100), owner: owner(1, true) }],
      bids: [bid(2, 1, 20, 100)],
    });
    assert.equal(mixedCase.volumeWh, 0n);
  });

  it("routes around a self-trade without losing volume", () => {
    // Owner 1's cheap offer would meet its own dear bid in a naive merge.
    const offers = [offer(1, 1, 10, 100), offer(2, 2, 11, 100)];
    const bids = [bid(3, 1, 30, 100), bid(4, 3, 29, 100)];
    const r = computeClearing({ offers, bids });
    assert.equal(r.volumeWh, 200n);
    assert.deepEqual(r.fills, [
      { offerId: 1n, bidId: 4n, wh: 100n },
      { offerId: 2n, bidId: 3n, wh: 100n },
    ]);
  });

  it("cuts an owner whose own offers and bids would crowd out the volume", () => {
    // At 10, V = 120; by priority owner 1 would sell 100 and buy 100 of it: 200 > 120. It gives up
    // 80, 40 on each side (all that owners 2 and 3 have spare), and they take that over.
    const even = {
      offers: [offer(1, 1, 5, 100), offer(2, 2, 10, 60)],
      bids: [bid(3, 1, 20, 100), bid(4, 3, 15, 60)],
    };
    const r = computeClearing(even);
    assertValid(even.offers, even.bids, r);
    assert.equal(r.price, 10n);
    assert.equal(r.volumeWh, 120n);
    assert.deepEqual(
      [...r.offersFilledWh],
      [
        [1n, 60n],
        [2n, 60n],
      ],
    );
    assert.deepEqual(
      [...r.bidsFilledWh],
      [
        [3n, 60n],
        [4n, 60n],
      ],
    );
    // Here other sellers have nothing spare, so the whole cut (90 of 200 > 110) falls on its bid.
    const uneven = {
      offers: [offer(1, 1, 5, 100), offer(2, 2, 10, 10)],
      bids: [bid(3, 1, 20, 100), bid(4, 3, 15, 200)],
    };
    const u = computeClearing(uneven);
    assertValid(uneven.offers, uneven.bids, u);
    assert.equal(u.volumeWh, 110n);
    assert.deepEqual(u.fills, [
      { offerId: 1n, bidId: 4n, wh: 100n },
      { offerId: 2n, bidId: 3n, wh: 10n },
    ]);
  });

  it("refuses books the contracts cannot hold", () => {
    const ok = offer(1, 1, 10, 10);
    const bad = (offers: ClearingOffer[], bids: ClearingBid[]) =>
      assert.throws(() => computeClearing({ offers, bids }), ClearingInputError);
    bad([ok, ok], []);
    bad([ok], [bid(1, 2, 10, 10)]);
    bad([offer(2, 1, 10, 0)], []);
    bad([], [bid(2, 1, 0, 10)]);
    bad([{ ...ok, owner: "0x1234" }], []);
    bad([offer(2, 1, 10, 2 ** 48)], []);
    bad([{ ...ok, minPricePerKwh: 1n << 96n }], []);
    bad([{ ...ok, id: -1n }], []);
  });

  it("handles full-width values", () => {
    const wh = (1n << 48n) - 1n;
    const price = (1n << 96n) - 1n;
    const offers = [{ ...offer(1, 1, 0, 0), wh, minPricePerKwh: price }];
    const bids = [{ ...bid(2, 2, 0, 0), id: (1n << 64n) - 1n, wh, maxPricePerKwh: price }];
    const r = computeClearing({ offers, bids });
    assert.equal(r.price, price);
    assert.deepEqual(r.fills, [{ offerId: 1n, bidId: (1n << 64n) - 1n, wh }]);
  });
});

// ------------------------------------------------------------------ properties

describe("computeClearing properties", () => {
  it("matches the exhaustive optimum on small books (volume and lowest price)", () => {
    const rng = random(1);
    const shape = { maxOrders: 7, owners: 3, maxPrice: 5, maxWh: 3 };
    for (let n = 0; n < 3000; n++) {
      const { offers, bids } = randomBook(rng, shape);
      const r = computeClearing({ offers, bids });
      assertValid(offers, bids, r);
      const best = bruteForce(offers, bids, shape.maxPrice);
      const book = JSON.stringify({ offers, bids }, (_, v: unknown) => (typeof v === "bigint" ? `${v}` : v));
      assert.equal(r.volumeWh, BigInt(best.volume), book);
      assert.equal(r.price, BigInt(best.price), book);
    }
  });

  it("keeps every fill within its orders' limits and priority on larger books", () => {
    const rng = random(2);
    for (let n = 0; n < 400; n++) {
      const shape = {
        maxOrders: 80,
        owners: rng.int(1, 12),
        maxPrice: rng.int(1, 30),
        maxWh: rng.int(1, 1000),
      };
      const { offers, bids } = randomBook(rng, shape);
      const r = computeClearing({ offers, bids });
      assertValid(offers, bids, r);
      // Only orders accepting the price compete: the rest are out of the queue.
      const inOffers = offers.filter((o) => r.volumeWh > 0n && o.minPricePerKwh <= r.price);
      const inBids = bids.filter((b) => r.volumeWh > 0n && b.maxPricePerKwh >= r.price);
      assertPriority(inOffers, (o) => o.minPricePerKwh, r.offersFilledWh);
      assertPriority(inBids, (b) => -b.maxPricePerKwh, r.bidsFilledWh);
    }
  });

  it("fills each side in priority order when no owner is on both sides", () => {
    const rng = random(3);
    for (let n = 0; n < 300; n++) {
      const { offers, bids } = randomBook(rng, { maxOrders: 40, owners: 20, maxPrice: 15, maxWh: 50 });
      // Sellers are owners 1–20, buyers 21–40.
      const buyers = bids.map((b) => ({ ...b, owner: owner(parseInt(b.owner.slice(-2), 16) + 20) }));
      const r = computeClearing({ offers, bids: buyers });
      assertValid(offers, buyers, r);
      const byPriority = <T extends { id: bigint }>(orders: T[], key: (o: T) => bigint) =>
        orders
          .slice()
          .sort((a, b) => (key(a) !== key(b) ? (key(a) < key(b) ? -1 : 1) : a.id < b.id ? -1 : 1));
      const o = byPriority(offers, (x) => x.minPricePerKwh);
      assertPrefix(
        o.map((x) => r.offersFilledWh.get(x.id) ?? 0n),
        o.map((x) => x.wh),
      );
      const b = byPriority(buyers, (x) => -x.maxPricePerKwh);
      assertPrefix(
        b.map((x) => r.bidsFilledWh.get(x.id) ?? 0n),
        b.map((x) => x.wh),
      );
    }
  });

  it("gives the identical result whatever the input order and address case", () => {
    const rng = random(4);
    for (let n = 0; n < 200; n++) {
      const { offers, bids } = randomBook(rng, { maxOrders: 60, owners: 6, maxPrice: 12, maxWh: 200 });
      const recase = <T extends { owner: Address }>(o: T): T =>
        rng.chance(0.5) ? { ...o, owner: `0x${o.owner.slice(2).toUpperCase()}` } : o;
      const a = computeClearing({ offers, bids });
      const b = computeClearing({
        offers: rng.shuffle(offers).map(recase),
        bids: rng.shuffle(bids).map(recase),
      });
      assert.deepEqual(b, a);
      assert.deepEqual([...b.offersFilledWh.keys()], [...a.offersFilledWh.keys()]);
    }
  });
});

describe("batchFills", () => {
  it("splits fills into ordered batches of at most the size", () => {
    const { offers, bids } = randomBook(random(5), { maxOrders: 60, owners: 10, maxPrice: 10, maxWh: 100 });
    const { fills } = computeClearing({ offers, bids });
    assert.ok(fills.length > 3);
    const batches = batchFills(fills, 3);
    assert.ok(batches.every((batch) => batch.length >= 1 && batch.length <= 3));
    assert.deepEqual(batches.flat(), fills);
    assert.deepEqual(batchFills([], 3), []);
    assert.throws(() => batchFills(fills, 0), RangeError);
  });
});
