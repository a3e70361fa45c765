import { expect } from "chai";
import { network } from "hardhat";

import { loadOrderBook, rebuildProjections } from "../../gateway/src/indexer/index.js";
import type { Database } from "../../gateway/src/store/index.js";
import { fixedPrice } from "../helpers/delivery.js";
import { intervalClock } from "../helpers/gridmesh.js";
import {
  bookOnChain,
  chainProvider,
  contractsOf,
  deployMarket,
  engines,
  indexRows,
  indexerFor,
  storesFor,
} from "./indexerSupport.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const clock = intervalClock(networkHelpers);

for (const engine of engines) {
  describe(`chain indexer on ${engine}`, function () {
    const stores = storesFor(engine);
    before(() => stores.setUp());

    it("rebuilds each interval's book from orders of several accounts, and resumes after a restart without duplicates", async function () {
      const g = await deployMarket(ethers);
      const t = await clock.openInterval();
      const m = g.market;
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n);
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 1_000n, 90_000n);
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n);
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 2_500n, 200_000n);
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 2_000n, 160_000n);
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t + 1n, 500n, 170_000n);
      await m.connect(g.alice.owner).cancelOrder(2n);
      await m.connect(g.dave.owner).cancelOrder(5n);

      let db: Database = await stores.fresh();
      const first = await (await indexerFor(db, connection, g, { startBlock: g.startBlock })).syncOnce();
      const head = await ethers.provider.getBlock("latest");
      expect(first.indexedThrough).to.equal(BigInt(head!.number));
      expect(first.reorgs).to.deep.equal([]);

      const book = await loadOrderBook(db, t);
      expect({ offers: book.offers, bids: book.bids }).to.deep.equal(await bookOnChain(g, t));
      expect(book.offers.map((o) => o.id)).to.deep.equal([1n, 3n]);
      expect(book.bids.map((b) => b.id)).to.deep.equal([4n]);
      expect(book.indexedThrough).to.deep.equal({
        block: BigInt(head!.number),
        timestamp: BigInt(head!.timestamp),
      });
      expect((await loadOrderBook(db, t + 1n)).bids.map((b) => b.id)).to.deep.equal([6n]);
      const devices = await db.query<{ meter: string; owner: string; status: string }>(
        "SELECT meter, owner, status FROM devices ORDER BY owner",
      );
      expect(devices.rows).to.deep.equal(
        [g.alice, g.bob, g.carol, g.dave]
          .map((p) => ({
            meter: p.meter.toLowerCase(),
            owner: p.owner.address.toLowerCase(),
            status: "active",
          }))
          .sort((a, b) => (a.owner < b.owner ? -1 : 1)),
      );

      // The gateway stops; more happens on chain; a new gateway opens the same database.
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 700n, 120_000n);
      await m.connect(g.carol.owner).cancelOrder(4n);
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 1_200n, 180_000n);
      await g.registry.connect(g.dave.owner).deactivate(g.dave.meter);
      db = await stores.reopen(db);
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock });
      const second = await indexer.syncOnce();
      const since = await db.query<{ event_name: string }>(
        "SELECT event_name FROM chain_events WHERE block_number > $1 ORDER BY block_number, log_index",
        [first.indexedThrough],
      );
      expect(since.rows.map((r) => r.event_name)).to.deep.equal([
        "OfferPlaced",
        "OrderCancelled",
        "OrderReleased",
        "BidPlaced",
        "MeterDeactivated",
      ]);
      expect(second.events).to.equal(5);
      const book2 = await loadOrderBook(db, t);
      expect({ offers: book2.offers, bids: book2.bids }).to.deep.equal(await bookOnChain(g, t));
      expect(book2.bids.map((b) => b.id)).to.deep.equal([8n]);

      // Every log of the contracts is stored exactly once.
      const logs = await chainProvider(connection).getLogs({
        address: Object.values(await contractsOf(g)),
        fromBlock: g.startBlock,
        toBlock: "latest",
      });
      const stored = await db.query<{ n: bigint }>("SELECT count(*) AS n FROM chain_events");
      expect(stored.rows[0]!.n).to.equal(BigInt(logs.length));
      expect((await indexer.syncOnce()).events).to.equal(0);
      const dave = await db.query("SELECT status FROM devices WHERE meter = $1", [
        g.dave.meter.toLowerCase(),
      ]);
      expect(dave.rows).to.deep.equal([{ status: "deactivated" }]);
    });

    it("follows clearing, settlement, readings, forwards and options; a rebuild and a fresh index give the same rows", async function () {
      const g = await deployMarket(ethers);
      const m = g.market;
      const t = await clock.openInterval(3n);
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n); // 1
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n); // 2
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 2_500n, 200_000n); // 3
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 2_000n, 160_000n); // 4
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 400n, 90_000n); // 5: below the price

      // A forward alice sells to anyone and bob takes, committed for two later intervals; two options.
      const t2 = t + 3n;
      const terms = {
        firstInterval: t2,
        lastInterval: t2 + 1n,
        whPerInterval: 100n,
        pricing: fixedPrice(120_000n),
      };
      await g.forwards.connect(g.alice.owner).propose(terms, true, g.alice.meter, ethers.ZeroAddress);
      await g.forwards.connect(g.bob.owner).accept(1n, g.bob.meter);
      await g.forwards.commitDeliveries([1n], t2);
      await g.forwards.commitDeliveries([1n], t2 + 1n);
      const option = {
        firstInterval: t2,
        lastInterval: t2,
        whPerInterval: 50n,
        strikePerKwh: 130_000n,
        premium: 1_000n,
        exerciseDeadline: clock.gateClosure(t) - 1n,
      };
      await g.options.connect(g.carol.owner).write(option, g.carol.meter);
      await g.options.connect(g.dave.owner).buy(1n);
      await g.options.connect(g.carol.owner).write(option, g.carol.meter);
      await g.options.connect(g.carol.owner).cancel(2n);

      await clock.to(clock.gateClosure(t));
      await g.options.expire(1n);
      const price = 150_000n;
      const batch0 = [
        { offerId: 1n, bidId: 3n, wh: 2_500n },
        { offerId: 1n, bidId: 4n, wh: 500n },
      ];
      const batch1 = [{ offerId: 2n, bidId: 4n, wh: 1_500n }];
      await m.connect(g.matcher).submitClearing(t, price, batch0, false);
      await m.connect(g.matcher).submitClearing(t, price, batch1, true);

      const db = await stores.fresh();
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock });
      await indexer.syncOnce();
      const matched = await db.query("SELECT order_id, status, filled_wh FROM orders ORDER BY order_id");
      expect(matched.rows.map((r) => [r.order_id, r.status, r.filled_wh])).to.deep.equal([
        ["1", "matched", 3_000n],
        ["2", "matched", 1_500n],
        ["3", "matched", 2_500n],
        ["4", "matched", 2_000n],
        ["5", "open", 0n],
      ]);
      // The book is what stood at gate closure: fills do not shrink it.
      expect((await loadOrderBook(db, t)).offers.map((o) => o.wh)).to.deep.equal([3_000n, 2_000n]);

      await clock.to(clock.end(t) + 1n);
      await m.releaseUnfilled([5n]);
      const [aliceMeter, bobMeter] = g.meterWallets;
      await g.report(aliceMeter!, t, 3_000n);
      await g.report(bobMeter!, t, 750n);
      await m.settleBatch(t, 0, batch0);
      await m.settleBatch(t, 1, batch1);
      await clock.to(clock.end(t2 + 1n) + 1n);
      await g.report(aliceMeter!, t2, 100n);
      await g.report(aliceMeter!, t2 + 1n, 60n);
      await g.forwards.settleDeliveries(1n, [t2, t2 + 1n]);
      await indexer.syncOnce();

      const orders = await db.query(
        "SELECT order_id, status, filled_wh, settled_wh, delivered_wh FROM orders ORDER BY order_id",
      );
      expect(orders.rows.map((r) => Object.values(r))).to.deep.equal([
        ["1", "settled", 3_000n, 3_000n, 3_000n],
        ["2", "settled", 1_500n, 1_500n, 750n],
        ["3", "settled", 2_500n, 2_500n, 2_500n],
        ["4", "settled", 2_000n, 2_000n, 1_250n],
        ["5", "released", 0n, 0n, 0n],
      ]);
      const clearing = await db.query(
        "SELECT price, batch_count, finalize_tx IS NOT NULL AS final FROM chain_clearings",
      );
      expect(clearing.rows).to.deep.equal([{ price: "150000", batch_count: 2, final: true }]);
      const fills = await db.query(
        "SELECT batch, position, offer_id, bid_id, wh, delivered_wh FROM chain_fills ORDER BY batch, position",
      );
      expect(fills.rows.map((r) => Object.values(r))).to.deep.equal([
        [0, 0, "1", "3", 2_500n, 2_500n],
        [0, 1, "1", "4", 500n, 500n],
        [1, 0, "2", "4", 1_500n, 750n],
      ]);
      const unsettled = await db.query(
        "SELECT count(*) AS n FROM chain_clearing_batches WHERE settle_tx IS NULL",
      );
      expect(unsettled.rows).to.deep.equal([{ n: 0n }]);
      const schedules = await db.query(
        "SELECT product, schedule_id, status, seller, buyer, holder FROM delivery_schedules ORDER BY product, schedule_id",
      );
      const lower = (a: { address: string }) => a.address.toLowerCase();
      expect(schedules.rows).to.deep.equal([
        {
          product: "forward",
          schedule_id: "1",
          status: "completed",
          seller: lower(g.alice.owner),
          buyer: lower(g.bob.owner),
          holder: null,
        },
        {
          product: "option",
          schedule_id: "1",
          status: "expired",
          seller: lower(g.carol.owner),
          buyer: null,
          holder: lower(g.dave.owner),
        },
        {
          product: "option",
          schedule_id: "2",
          status: "cancelled",
          seller: lower(g.carol.owner),
          buyer: null,
          holder: null,
        },
      ]);
      const deliveries = await db.query(
        "SELECT interval_index, status, wh, delivered_wh FROM scheduled_deliveries ORDER BY interval_index",
      );
      expect(deliveries.rows).to.deep.equal([
        { interval_index: t2.toString(), status: "settled", wh: 100n, delivered_wh: 100n },
        { interval_index: (t2 + 1n).toString(), status: "settled", wh: 100n, delivered_wh: 60n },
      ]);
      const obligations = await db.query(
        "SELECT meter, interval_index, wh FROM delivery_obligations WHERE interval_index = $1 ORDER BY wh",
        [t],
      );
      expect(obligations.rows).to.deep.equal([
        { meter: bobMeter!.address.toLowerCase(), interval_index: t.toString(), wh: "1500" },
        { meter: aliceMeter!.address.toLowerCase(), interval_index: t.toString(), wh: "3000" },
      ]);

      // A reading the intake stores after the chain recorded it is marked recorded all the same.
      const recorded = await db.query<{
        meter: string;
        interval_index: string;
        sequence: string;
        tx_hash: string;
      }>(
        "SELECT meter, interval_index, sequence, tx_hash FROM chain_readings WHERE interval_index = $1 ORDER BY meter",
        [t],
      );
      expect(recorded.rows).to.have.length(2);
      const signature = `0x${"1b".repeat(65)}`;
      for (const r of recorded.rows) {
        await db.query(
          `INSERT INTO readings (meter, sequence, interval_index, import_start_wh, import_end_wh, export_start_wh,
             export_end_wh, reading_timestamp, signature) VALUES ($1, $2, $3, 0, 0, 0, 0, 0, $4)`,
          [r.meter, r.sequence, r.interval_index, signature],
        );
      }
      const marked = await db.query("SELECT recorded_tx FROM readings ORDER BY meter");
      expect(marked.rows).to.deep.equal(recorded.rows.map((r) => ({ recorded_tx: r.tx_hash })));

      const incremental = await indexRows(db);
      await rebuildProjections(db);
      expect(await indexRows(db)).to.deep.equal(incremental);

      // The same chain indexed again from scratch, three blocks per range, agrees row for row.
      const readings = JSON.stringify((await db.query("SELECT * FROM readings")).rows);
      const fresh = await stores.fresh();
      await fresh.query(
        "INSERT INTO readings SELECT * FROM jsonb_populate_recordset(NULL::readings, $1::jsonb)",
        [readings],
      );
      await (await indexerFor(fresh, connection, g, { startBlock: g.startBlock, blockRange: 3 })).syncOnce();
      expect(await indexRows(fresh)).to.deep.equal(incremental);
    });

    it("leaves the newest `confirmations` blocks out of the index until they are buried", async function () {
      const g = await deployMarket(ethers);
      const t = await clock.openInterval();
      const db = await stores.fresh();
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock, confirmations: 2 });
      for (const wh of [1_000n, 2_000n, 3_000n]) {
        await g.market.connect(g.alice.owner).placeOffer(g.alice.meter, t, wh, 100_000n);
      }
      const head = BigInt(await ethers.provider.getBlockNumber());
      expect((await indexer.syncOnce()).indexedThrough).to.equal(head - 2n);
      const book = await loadOrderBook(db, t);
      expect(book.offers.map((o) => o.wh)).to.deep.equal([1_000n]);
      const buried = await ethers.provider.getBlock(Number(head - 2n));
      expect(book.indexedThrough).to.deep.equal({ block: head - 2n, timestamp: BigInt(buried!.timestamp) });

      await networkHelpers.mine(2);
      await indexer.syncOnce();
      expect((await loadOrderBook(db, t)).offers.map((o) => o.wh)).to.deep.equal([1_000n, 2_000n, 3_000n]);
    });

    it("polls on its own once started, and stops cleanly", async function () {
      const g = await deployMarket(ethers);
      const t = await clock.openInterval();
      const db = await stores.fresh();
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock, pollIntervalMs: 20 });
      indexer.start();
      try {
        await g.market.connect(g.bob.owner).placeOffer(g.bob.meter, t, 800n, 100_000n);
        const deadline = Date.now() + 5_000;
        while ((await loadOrderBook(db, t)).offers.length === 0) {
          expect(Date.now()).to.be.below(deadline, "the polling indexer never stored the offer");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await indexer.stop();
      }
      await g.market.connect(g.bob.owner).placeOffer(g.bob.meter, t, 900n, 100_000n);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await loadOrderBook(db, t)).offers.map((o) => o.wh)).to.deep.equal([800n]);
    });
  });
}
