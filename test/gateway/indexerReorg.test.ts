import { expect } from "chai";
import { network } from "hardhat";

import { loadOrderBook, rebuildProjections } from "../../gateway/src/indexer/index.js";
import type { Database } from "../../gateway/src/store/index.js";
import { intervalClock } from "../helpers/gridmesh.js";
import {
  bookOnChain,
  capturingLogger,
  chainProvider,
  deployMarket,
  engines,
  failingAt,
  indexRows,
  indexerFor,
  type Market,
  projectionRows,
  storesFor,
} from "./indexerSupport.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const clock = intervalClock(networkHelpers);

const snapshot = () => connection.provider.request({ method: "evm_snapshot" }) as Promise<string>;
const revertTo = async (id: string) => {
  expect(await connection.provider.request({ method: "evm_revert", params: [id] })).to.equal(true);
};
const headNumber = async () => BigInt(await ethers.provider.getBlockNumber());

/** Every stored event sits in a block that is on the chain now. */
async function expectEventsOnChain(db: Database) {
  const { rows } = await db.query<{ block_number: bigint; block_hash: string }>(
    "SELECT DISTINCT block_number, block_hash FROM chain_events",
  );
  const provider = chainProvider(connection);
  for (const row of rows) {
    expect((await provider.getBlock(Number(row.block_number)))?.hash, `block ${row.block_number}`).to.equal(
      row.block_hash,
    );
  }
}

/** The projections are what replaying the remaining events gives, and the book is the contract's. */
async function expectConsistent(db: Database, g: Market, t: bigint) {
  const rows = await projectionRows(db);
  await rebuildProjections(db);
  expect(await projectionRows(db)).to.deep.equal(rows);
  const book = await loadOrderBook(db, t);
  expect({ offers: book.offers, bids: book.bids }).to.deep.equal(await bookOnChain(g, t));
}

for (const engine of engines) {
  describe(`chain indexer across reorgs and crashes on ${engine}`, function () {
    const stores = storesFor(engine);
    before(() => stores.setUp());

    it("drops the orphaned branch's events and rows, indexes the new branch, and matches a fresh index", async function () {
      const g = await deployMarket(ethers);
      const m = g.market;
      const t = await clock.openInterval();
      const db = await stores.fresh();
      const { logger, records } = capturingLogger();
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock, logger });
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n); // 1
      await indexer.syncOnce();

      const fork = await headNumber();
      const id = await snapshot();
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n); // 2
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 2_500n, 200_000n); // 3
      await m.connect(g.alice.owner).cancelOrder(1n);
      const orphanMeter = await g.enrollMeter(g.eve);
      await indexer.syncOnce();
      expect((await loadOrderBook(db, t)).offers.map((o) => o.id)).to.deep.equal([2n]);
      const enrolled = await db.query("SELECT status FROM devices WHERE meter = $1", [
        orphanMeter.meter.address.toLowerCase(),
      ]);
      expect(enrolled.rows).to.deep.equal([{ status: "enrolled" }]);

      // Another branch from the fork: fewer blocks, other orders under the same ids.
      await revertTo(id);
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 1_000n, 170_000n); // 2
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 500n, 140_000n); // 3
      const report = await indexer.syncOnce();
      expect(report.reorgs).to.deep.equal([{ from: fork + 4n, to: fork, depth: 4n, orphanedEvents: 5 }]);
      expect(report.indexedThrough).to.equal(fork + 2n);
      const warning = records.find((r) => r.msg === "chain reorganised under the index; rolled back");
      expect(warning).to.include({ level: 40, depth: 4, from: String(fork + 4n), to: String(fork) });

      const book = await loadOrderBook(db, t);
      expect(book.offers.map((o) => [o.id, o.wh])).to.deep.equal([
        [1n, 3_000n],
        [3n, 500n],
      ]);
      expect(book.bids.map((b) => [b.id, b.wh])).to.deep.equal([[2n, 1_000n]]);
      const gone = await db.query("SELECT * FROM devices WHERE meter = $1", [
        orphanMeter.meter.address.toLowerCase(),
      ]);
      expect(gone.rows).to.deep.equal([]);
      await expectEventsOnChain(db);
      await expectConsistent(db, g, t);

      const incremental = await indexRows(db);
      const fresh = await stores.fresh();
      await (await indexerFor(fresh, connection, g, { startBlock: g.startBlock })).syncOnce();
      expect(await indexRows(fresh)).to.deep.equal(incremental);
    });

    it("follows a reorg deeper than the confirmation depth, on a branch of the same length", async function () {
      const g = await deployMarket(ethers);
      const m = g.market;
      const t = await clock.openInterval();
      const db = await stores.fresh();
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock, confirmations: 2 });
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n); // 1
      const first = await headNumber();
      await networkHelpers.mine(2);
      await indexer.syncOnce();

      const id = await snapshot();
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n); // 2
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 2_500n, 200_000n); // 3
      await networkHelpers.mine(2);
      await indexer.syncOnce();
      expect((await loadOrderBook(db, t)).bids.map((b) => b.id)).to.deep.equal([3n]);

      await revertTo(id);
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 900n, 180_000n); // 2
      await networkHelpers.mine(3);
      const report = await indexer.syncOnce();
      // The index stood at first + 4; the newest block it knew still on the chain was `first`.
      expect(report.reorgs).to.deep.equal([{ from: first + 4n, to: first, depth: 4n, orphanedEvents: 2 }]);
      expect(report.indexedThrough).to.equal(first + 4n);
      const book = await loadOrderBook(db, t);
      expect(book.offers.map((o) => o.id)).to.deep.equal([1n]);
      expect(book.bids.map((b) => [b.id, b.wh])).to.deep.equal([[2n, 900n]]);
      await expectEventsOnChain(db);
      await expectConsistent(db, g, t);
    });

    it("replaces a clearing the reorg orphaned: fills, filled volumes and statuses follow the new branch", async function () {
      const g = await deployMarket(ethers);
      const m = g.market;
      const t = await clock.openInterval();
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n); // 1
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n); // 2
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 2_500n, 200_000n); // 3
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 2_000n, 160_000n); // 4
      const db = await stores.fresh();
      const indexer = await indexerFor(db, connection, g, { startBlock: g.startBlock });
      await indexer.syncOnce();
      await clock.to(clock.gateClosure(t));

      const id = await snapshot();
      const fills = [
        { offerId: 1n, bidId: 3n, wh: 2_500n },
        { offerId: 1n, bidId: 4n, wh: 500n },
        { offerId: 2n, bidId: 4n, wh: 1_500n },
      ];
      await m.connect(g.matcher).submitClearing(t, 150_000n, fills, true);
      await indexer.syncOnce();
      const filled = await db.query("SELECT sum(filled_wh)::bigint AS wh FROM orders");
      expect(filled.rows).to.deep.equal([{ wh: 9_000n }]);

      await revertTo(id);
      await clock.to(clock.gateClosure(t) + 1n);
      await m.connect(g.matcher).submitClearing(t, 160_000n, [{ offerId: 2n, bidId: 3n, wh: 2_000n }], false);
      const report = await indexer.syncOnce();
      expect(report.reorgs).to.have.length(1);
      const orders = await db.query("SELECT order_id, status, filled_wh FROM orders ORDER BY order_id");
      expect(orders.rows.map((r) => Object.values(r))).to.deep.equal([
        ["1", "open", 0n],
        ["2", "matched", 2_000n],
        ["3", "matched", 2_000n],
        ["4", "open", 0n],
      ]);
      const clearing = await db.query("SELECT price, batch_count, finalize_tx FROM chain_clearings");
      expect(clearing.rows).to.deep.equal([{ price: "160000", batch_count: 1, finalize_tx: null }]);
      const stored = await db.query("SELECT offer_id, bid_id, wh FROM chain_fills");
      expect(stored.rows).to.deep.equal([{ offer_id: "2", bid_id: "3", wh: 2_000n }]);
      await expectConsistent(db, g, t);
    });

    it("stores nothing of a range whose transaction fails at any statement, and all of it exactly once after", async function () {
      const g = await deployMarket(ethers);
      const m = g.market;
      const t = await clock.openInterval();
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n); // 1
      const db = await stores.fresh();
      const { indexedThrough } = await (
        await indexerFor(db, connection, g, { startBlock: g.startBlock })
      ).syncOnce();

      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n); // 2
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 2_500n, 200_000n); // 3
      await m.connect(g.alice.owner).cancelOrder(1n);
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 2_000n, 160_000n); // 4
      await clock.to(clock.gateClosure(t));
      await m.connect(g.matcher).submitClearing(t, 160_000n, [{ offerId: 2n, bidId: 3n, wh: 2_000n }], true);
      const before = await indexRows(db);

      let attempts = 0;
      for (let failAt = 1; ; failAt++) {
        const failing = failingAt(db, failAt);
        const indexer = await indexerFor(failing, connection, g, { startBlock: g.startBlock });
        const outcome = await indexer.syncOnce().then(
          () => "synced",
          (error: Error) => error.message,
        );
        if (!failing.failed) {
          expect(outcome).to.equal("synced");
          break;
        }
        expect(outcome).to.equal(`injected failure at statement ${failAt}`);
        expect(await indexRows(db), `after a failure at statement ${failAt}`).to.deep.equal(before);
        attempts++;
      }
      // Lock, checkpoint, events, a dozen projection statements for eight events, block, checkpoints, pruning.
      expect(attempts).to.be.greaterThan(10);
      const events = await db.query<{ event_name: string }>(
        "SELECT event_name FROM chain_events WHERE block_number > $1 ORDER BY block_number, log_index",
        [indexedThrough],
      );
      expect(events.rows.map((r) => r.event_name)).to.deep.equal([
        "OfferPlaced",
        "BidPlaced",
        "OrderCancelled",
        "OrderReleased",
        "BidPlaced",
        "ClearingBatchSubmitted",
        "ClearingFinalized",
        "ObligationAdded",
      ]);
      await expectConsistent(db, g, t);
      const filled = await db.query(
        "SELECT order_id, filled_wh FROM orders WHERE filled_wh > 0 ORDER BY order_id",
      );
      expect(filled.rows).to.deep.equal([
        { order_id: "2", filled_wh: 2_000n },
        { order_id: "3", filled_wh: 2_000n },
      ]);
    });

    it("survives a failure anywhere in a reorg's rollback and the range after it", async function () {
      const g = await deployMarket(ethers);
      const m = g.market;
      const t = await clock.openInterval();
      const db = await stores.fresh();
      await m.connect(g.alice.owner).placeOffer(g.alice.meter, t, 3_000n, 100_000n); // 1
      await (await indexerFor(db, connection, g, { startBlock: g.startBlock })).syncOnce();
      const id = await snapshot();
      await m.connect(g.bob.owner).placeOffer(g.bob.meter, t, 2_000n, 150_000n);
      await m.connect(g.alice.owner).cancelOrder(1n);
      await (await indexerFor(db, connection, g, { startBlock: g.startBlock })).syncOnce();
      await revertTo(id);
      await m.connect(g.carol.owner).placeBid(g.carol.meter, t, 1_000n, 170_000n);
      await m.connect(g.dave.owner).placeBid(g.dave.meter, t, 1_000n, 175_000n);
      await networkHelpers.mine(1);

      for (let failAt = 1; ; failAt++) {
        const failing = failingAt(db, failAt);
        const indexer = await indexerFor(failing, connection, g, { startBlock: g.startBlock });
        const failed = await indexer.syncOnce().then(
          () => false,
          () => true,
        );
        expect(failed).to.equal(failing.failed);
        // Whether the rollback had committed or not, what is stored hangs together.
        const rows = await projectionRows(db);
        await rebuildProjections(db);
        expect(await projectionRows(db), `after a failure at statement ${failAt}`).to.deep.equal(rows);
        if (!failed) break;
      }
      await expectEventsOnChain(db);
      await expectConsistent(db, g, t);
      const book = await loadOrderBook(db, t);
      expect(book.offers.map((o) => o.id)).to.deep.equal([1n]);
      expect(book.bids.map((b) => b.id)).to.deep.equal([2n, 3n]);
    });
  });
}
