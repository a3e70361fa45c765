import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  type Address,
  type ClearingBid,
  type ClearingOffer,
  type MeterReading,
  computeClearing,
  signedReadingToJson,
} from "@gridmesh/contracts";
import { expect } from "chai";
import type { BaseWallet } from "ethers";
import { network } from "hardhat";

import { createLogger } from "../../gateway/src/common/logger.js";
import { loadGatewayConfig } from "../../gateway/src/config/config.js";
import { ClearingStore } from "../../gateway/src/market/clearingStore.js";
import { fillsArgument } from "../../gateway/src/market/fillsHash.js";
import { GatewayService } from "../../gateway/src/service/gatewayService.js";
import { seededRandom } from "../../meter-agent/src/common/seededRandom.js";
import { fixedPrice } from "../helpers/delivery.js";
import { deployGridMesh, intervalClock, INTERVAL_SECONDS, usd } from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();

/**
 * One whole trading interval through the real gateway against the real contracts on Hardhat's EVM:
 * orders on chain → indexed → cleared and submitted before the interval starts → signed readings
 * posted to the gateway's API → relayed to the ledger → batches settled → sellers paid. Then a
 * restart on the same store that must neither lose nor repeat anything.
 */
describe("gateway: a full interval cycle", function () {
  this.timeout(120_000);
  let dir: string;
  let gateway: GatewayService | undefined;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "gridmesh-cycle-"))));
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function setup() {
    const gm = await deployGridMesh(ethers);
    const clock = intervalClock(networkHelpers);
    const meters = {
      alice: await gm.activeMeter(gm.alice),
      bob: await gm.activeMeter(gm.bob),
      carol: await gm.activeMeter(gm.carol),
      dave: await gm.activeMeter(gm.dave),
    };
    for (const account of [gm.alice, gm.bob, gm.carol, gm.dave]) await gm.fund(account, usd(10_000n));
    const t = await clock.openInterval(3n);
    const config = loadGatewayConfig({
      GRIDMESH_HTTP_PORT: "0",
      GRIDMESH_DATA_DIR: join(dir, "db"),
      GRIDMESH_ENERGY_MARKET: await gm.market.getAddress(),
      GRIDMESH_DELIVERY_LEDGER: await gm.ledger.getAddress(),
      GRIDMESH_METER_REGISTRY: await gm.registry.getAddress(),
      GRIDMESH_FORWARD_MARKET: await gm.forwards.getAddress(),
      GRIDMESH_OPTION_MARKET: await gm.options.getAddress(),
      // One fill per batch, so the clearing goes out as several transactions.
      GRIDMESH_CLEARING_BATCH_SIZE: "1",
      GRIDMESH_LOG_LEVEL: "silent",
    });
    const start = () =>
      GatewayService.start({
        config,
        logger: createLogger({ level: process.env.CYCLE_LOG ?? "silent" }),
        provider: ethers.provider,
        signer: gm.matcher,
        now: async () => BigInt(await networkHelpers.time.latest()),
        autoRun: false,
      });
    return { gm, clock, meters, t, start };
  }

  /** The interval's orders as the chain holds them, read one by one: the independent recomputation's input. */
  async function bookFromChain(gm: Awaited<ReturnType<typeof deployGridMesh>>, t: bigint) {
    const offers: ClearingOffer[] = [];
    const bids: ClearingBid[] = [];
    const next = await gm.market.nextOrderId();
    for (let id = 1n; id < next; id++) {
      const o = await gm.market.getOrder(id);
      if (o.interval !== t || o.closed) continue;
      const order = { id, owner: o.owner as Address, wh: o.maxWh };
      if (o.side === 0n) offers.push({ ...order, minPricePerKwh: o.limitPrice });
      else bids.push({ ...order, maxPricePerKwh: o.limitPrice });
    }
    return { offers, bids };
  }

  /** Readings for `meter` from its first recordable interval up to `t`, exporting/importing in `t` only. */
  async function readingsUpTo(
    gm: Awaited<ReturnType<typeof deployGridMesh>>,
    meter: BaseWallet,
    t: bigint,
    exportWh: bigint | Map<bigint, bigint>,
    importWh: bigint,
  ) {
    const exportIn = (i: bigint) =>
      typeof exportWh === "bigint" ? (i === t ? exportWh : 0n) : (exportWh.get(i) ?? 0n);
    let exported = 0n;
    const [activeSince] = await gm.registry.activePeriod(meter.address);
    const readings = [];
    let sequence = 0n;
    for (let i = (activeSince + INTERVAL_SECONDS - 1n) / INTERVAL_SECONDS; i <= t; i++) {
      const reading: MeterReading = {
        meter: meter.address as Address,
        interval: i,
        sequence: ++sequence,
        importStartWh: 0n,
        importEndWh: i === t ? importWh : 0n,
        exportStartWh: exported,
        exportEndWh: (exported += exportIn(i)),
        timestamp: (i + 1n) * INTERVAL_SECONDS,
      };
      readings.push({ reading, signature: (await gm.signReading(meter, reading)) as `0x${string}` });
    }
    return readings;
  }

  async function post(url: string, body: unknown) {
    const res = await fetch(`${url}/v1/readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { results: { status: string; reason?: string }[] },
    };
  }

  it("clears before the interval starts, relays readings, settles, and pays exactly what the clearing says", async function () {
    const { gm, clock, meters, t, start } = await setup();
    await gm.market.connect(gm.alice).placeOffer(meters.alice.address, t, 2_000n, 100_000n);
    await gm.market.connect(gm.carol).placeOffer(meters.carol.address, t, 1_500n, 150_000n);
    await gm.market.connect(gm.bob).placeBid(meters.bob.address, t, 3_000n, 200_000n);
    await gm.market.connect(gm.dave).placeBid(meters.dave.address, t, 1_000n, 120_000n);
    const cancelled = await gm.market
      .connect(gm.dave)
      .placeOffer.staticCall(meters.dave.address, t, 500n, 1n);
    await gm.market.connect(gm.dave).placeOffer(meters.dave.address, t, 500n, 1n);
    await gm.market.connect(gm.dave).cancelOrder(cancelled);

    gateway = await start();
    // Gate still open: the gateway indexes but clears nothing.
    await gateway.loop.runOnce();
    expect((await gm.market.getClearing(t)).batches).to.equal(0n);

    await clock.to(clock.gateClosure(t));
    await gateway.loop.runOnce();
    const onChain = await gm.market.getClearing(t);
    expect(onChain.finalized).to.equal(true);

    // The independent recomputation: the same module over the book read straight from the chain.
    const expected = computeClearing(await bookFromChain(gm, t));
    expect(onChain.price).to.equal(expected.price);
    const stored = (await new ClearingStore(gateway.db).get(t))!;
    expect(stored.status).to.equal("finalized");
    expect(stored.batches.flatMap((b) => b.fills)).to.deep.equal(expected.fills);
    expect(onChain.batches).to.equal(BigInt(expected.fills.length));
    expect(expected.fills.length).to.be.greaterThan(1);

    // After the interval: the sellers' agents post their signed readings; a forged one is refused.
    await clock.to(clock.end(t) + 1n);
    const aliceReadings = await readingsUpTo(gm, meters.alice, t, 2_000n, 0n);
    const carolReadings = await readingsUpTo(gm, meters.carol, t, 1_000n, 0n); // 500 Wh short
    const forged = {
      ...aliceReadings.at(-1)!,
      reading: { ...aliceReadings.at(-1)!.reading, exportEndWh: 9_999n },
    };
    const posted = await post(gateway.url, { readings: [forged].map(signedReadingToJson) });
    expect(posted.body.results[0]!.status).to.equal("rejected");
    const accepted = await post(gateway.url, {
      readings: [...aliceReadings, ...carolReadings].map(signedReadingToJson),
    });
    expect(accepted.body.results.map((r) => r.status)).to.deep.equal(
      new Array(aliceReadings.length + carolReadings.length).fill("stored"),
    );

    await gateway.loop.runOnce(); // relay readings, then settle
    const [aliceOnLedger] = await gm.ledger.delivery(meters.alice.address, t);
    expect(aliceOnLedger).to.equal(true);
    for (let b = 0; b < expected.fills.length; b++) {
      expect(await gm.market.batchHash(t, b)).to.equal("0x" + "0".repeat(63) + "1"); // settled marker
    }
    const { rows } = await gateway.db.query<{ status: string }>(
      "SELECT status FROM batch_settlements WHERE interval_index = $1 ORDER BY batch",
      [t],
    );
    expect(rows.map((r) => r.status)).to.deep.equal(new Array(expected.fills.length).fill("settled"));

    // Every fill settled at the clearing price on what its seller delivered: Alice in full, Carol's
    // 1,000 Wh shared pro rata over what she sold.
    const sellerOf = new Map((await bookFromChain(gm, t)).offers.map((o) => [o.id, o.owner.toLowerCase()]));
    const carolSold = expected.fills
      .filter((f) => sellerOf.get(f.offerId) === gm.carol.address.toLowerCase())
      .reduce((sum, f) => sum + f.wh, 0n);
    const settled = await gm.market.queryFilter(gm.market.filters.FillSettled(t));
    expect(settled.length).to.equal(expected.fills.length);
    for (const event of settled) {
      const { offerId, bidId, deliveredWh, paid } = (event as unknown as { args: Record<string, bigint> })
        .args;
      const fill = expected.fills.find((f) => f.offerId === offerId && f.bidId === bidId)!;
      const byCarol = sellerOf.get(offerId!) === gm.carol.address.toLowerCase();
      const delivered = byCarol && carolSold > 1_000n ? (fill.wh * 1_000n) / carolSold : fill.wh;
      expect(deliveredWh).to.equal(delivered);
      expect(paid).to.equal((delivered * expected.price) / 1000n);
    }

    // A restart on the same store: nothing is sent again, nothing is lost or stored twice.
    const countEvents = async (g: GatewayService) =>
      (await g.db.query<{ n: bigint }>("SELECT count(*)::bigint AS n FROM chain_events")).rows[0]!.n;
    const block = await ethers.provider.getBlockNumber();
    await gateway.loop.runOnce(); // indexes the settlement's own blocks; sends nothing more
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    const eventsBefore = await countEvents(gateway);
    await gateway.stop();
    gateway = await start();
    await gateway.loop.runOnce();
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    expect(await countEvents(gateway)).to.equal(eventsBefore);
    expect((await new ClearingStore(gateway.db).get(t))!.status).to.equal("finalized");
  });

  it("after a crash between batches, sends only the batches the chain does not hold", async function () {
    const { gm, clock, meters, t, start } = await setup();
    await gm.market.connect(gm.alice).placeOffer(meters.alice.address, t, 1_000n, 100_000n);
    await gm.market.connect(gm.carol).placeOffer(meters.carol.address, t, 1_000n, 110_000n);
    await gm.market.connect(gm.bob).placeBid(meters.bob.address, t, 2_000n, 200_000n);
    gateway = await start();
    await gateway.loop.runOnce();
    await clock.to(clock.gateClosure(t));

    // Compute and store the clearing as the gateway would, then send its first batch "by hand" and
    // pretend the gateway died before recording it.
    const store = new ClearingStore(gateway.db);
    const expected = computeClearing(await bookFromChain(gm, t));
    const { fillsHash } = await import("../../gateway/src/market/fillsHash.js");
    await store.insert(
      t,
      expected.price,
      expected.volumeWh,
      expected.fills.map((f) => ({ fills: [f], fillsHash: fillsHash([f]) })),
    );
    await gm.market
      .connect(gm.matcher)
      .submitClearing(t, expected.price, fillsArgument([expected.fills[0]!]), false);

    await gateway.loop.runOnce();
    const onChain = await gm.market.getClearing(t);
    expect(onChain.finalized).to.equal(true);
    expect(onChain.batches).to.equal(2n);
    const stored = (await store.get(t))!;
    expect(stored.batches.map((b) => b.status)).to.deep.equal(["confirmed", "confirmed"]);
    expect(stored.status).to.equal("finalized");
  });

  it("commits a forward's intervals before they start and settles them from relayed readings", async function () {
    const { gm, clock, meters, t, start } = await setup();
    const price = 150_000n;
    const terms = {
      firstInterval: t,
      lastInterval: t + 1n,
      whPerInterval: 500n,
      pricing: fixedPrice(price),
    };
    await gm.forwards.connect(gm.alice).propose(terms, true, meters.alice.address, gm.bob.address);
    const id = (await gm.forwards.nextId()) - 1n;
    await gm.forwards.connect(gm.bob).accept(id, meters.bob.address);
    gateway = await start();

    // Each interval is committed in the run before it starts (nobody else does it here).
    await clock.to(clock.gateClosure(t));
    await gateway.loop.runOnce();
    expect(await gm.forwards.intervalState(id, t)).to.equal(1n);
    expect(await gm.forwards.intervalState(id, t + 1n)).to.equal(0n);
    await clock.to(clock.gateClosure(t + 1n));
    await gateway.loop.runOnce();
    expect(await gm.forwards.intervalState(id, t + 1n)).to.equal(1n);

    // Alice delivers 500 Wh in t and 200 Wh in t + 1; her agent posts the readings to the gateway.
    await clock.to(clock.end(t + 1n) + 1n);
    const readings = await readingsUpTo(
      gm,
      meters.alice,
      t + 1n,
      new Map([
        [t, 500n],
        [t + 1n, 200n],
      ]),
      0n,
    );
    const posted = await post(gateway.url, { readings: readings.map(signedReadingToJson) });
    expect(posted.body.results.every((r) => r.status === "stored")).to.equal(true);
    await gateway.loop.runOnce();

    expect(await gm.forwards.intervalState(id, t)).to.equal(2n);
    expect(await gm.forwards.intervalState(id, t + 1n)).to.equal(2n);
    const settled = await gm.forwards.queryFilter(gm.forwards.filters.DeliverySettled(id));
    const byInterval = new Map(
      settled.map((e) => {
        const args = (e as unknown as { args: { interval: bigint; deliveredWh: bigint; paid: bigint } }).args;
        return [args.interval, args] as const;
      }),
    );
    expect(byInterval.get(t)!.deliveredWh).to.equal(500n);
    expect(byInterval.get(t)!.paid).to.equal((500n * price) / 1000n);
    expect(byInterval.get(t + 1n)!.deliveredWh).to.equal(200n);
    expect(byInterval.get(t + 1n)!.paid).to.equal((200n * price) / 1000n);
    expect((await gm.forwards.getSchedule(id)).status).to.equal(3n); // Closed: margins released
  });

  it("clears random books exactly as an auditor recomputes them from the chain's orders", async function () {
    const { gm, clock, meters, t, start } = await setup();
    const seed = Number(process.env.GRIDMESH_TEST_SEED ?? 20261122);
    const rng = seededRandom(seed);
    const pick = (lo: number, hi: number) => BigInt(lo + Math.floor(rng() * (hi - lo + 1)));
    const traders = [
      [gm.alice, meters.alice],
      [gm.bob, meters.bob],
      [gm.carol, meters.carol],
      [gm.dave, meters.dave],
    ] as const;
    const intervals = [t, t + 1n, t + 2n];
    for (const ti of intervals) {
      for (const [account, meter] of traders) {
        for (let n = Number(pick(0, 3)); n > 0; n--) {
          const wh = pick(100, 3_000);
          const price = pick(50, 250) * 1_000n;
          if (rng() < 0.5) await gm.market.connect(account).placeOffer(meter.address, ti, wh, price);
          else await gm.market.connect(account).placeBid(meter.address, ti, wh, price);
        }
      }
    }
    gateway = await start();
    for (const ti of intervals) {
      await clock.to(clock.gateClosure(ti));
      await gateway.loop.runOnce();
      const expected = computeClearing(await bookFromChain(gm, ti));
      const onChain = await gm.market.getClearing(ti);
      const submitted = (await gm.market.queryFilter(gm.market.filters.ClearingBatchSubmitted(ti)))
        .map(
          (e) =>
            (
              e as unknown as {
                args: { batch: bigint; fills: { offerId: bigint; bidId: bigint; wh: bigint }[] };
              }
            ).args,
        )
        .sort((a, b) => Number(a.batch - b.batch))
        .flatMap((a) => a.fills.map((f) => ({ offerId: f.offerId, bidId: f.bidId, wh: f.wh })));
      const context = `seed ${seed}, interval ${ti - t}`;
      expect(submitted, context).to.deep.equal(expected.fills);
      if (expected.volumeWh === 0n) {
        expect(onChain.batches, context).to.equal(0n);
        expect((await new ClearingStore(gateway.db).get(ti))!.status, context).to.equal("empty");
      } else {
        expect(onChain.price, context).to.equal(expected.price);
        expect(onChain.finalized, context).to.equal(true);
      }
    }
  });
});
