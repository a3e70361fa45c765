import { expect } from "chai";
import { network } from "hardhat";

import { type Fill, fill, withBook } from "../helpers/book.js";
import { intervalClock, PENALTY_PER_KWH, SETTLEMENT_DELAY_SECONDS } from "../helpers/gridmesh.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const clock = intervalClock(networkHelpers);
const marketWithBook = () => withBook(connection);

async function cleared() {
  const g = await marketWithBook();
  await clock.to(clock.gateClosure(g.t));
  await g.market.connect(g.matcher).submitClearing(g.t, g.price, g.fills, true);
  return g;
}

describe("EnergyMarket", function () {
  describe("full lifecycle: orders → clearing → readings → settlement → withdrawals", function () {
    it("pays delivered energy, refunds and penalises a shortfall, releases the rest, conserves funds", async function () {
      const g = await networkHelpers.loadFixture(cleared);
      const marketAddress = await g.market.getAddress();
      const held = await g.token.balanceOf(marketAddress);
      // 150k + 100k collateral, 500k + 320k escrow.
      expect(held).to.equal(1_070_000n);

      await clock.to(clock.end(g.t) + 1n);
      await g.report(g.meters.alice, g.t, 3000n);
      await g.report(g.meters.bob, g.t, 750n); // half of the 1500 Wh bob sold

      await expect(g.market.settleBatch(g.t, 0, g.fills))
        .to.emit(g.market, "FillSettled")
        .withArgs(g.t, g.ids.aliceOffer, g.ids.carolBid, 2500n, 375_000n, 0n)
        .and.to.emit(g.market, "FillSettled")
        .withArgs(g.t, g.ids.bobOffer, g.ids.daveBid, 750n, 112_500n, 37_500n)
        .and.to.emit(g.market, "BatchSettled")
        .withArgs(g.t, 0);

      const balances = await Promise.all(
        [g.alice, g.bob, g.carol, g.dave].map((a) => g.market.balanceOf(a.address)),
      );
      // alice: 450k paid + 150k collateral back; bob: 112.5k paid + 100k − 37.5k collateral;
      // carol: 500k − 375k escrow back; dave: 320k − 187.5k escrow back + 37.5k penalty.
      expect(balances).to.deep.equal([600_000n, 175_000n, 125_000n, 170_000n]);
      expect(balances.reduce((a, b) => a + b)).to.equal(held);
      for (const id of Object.values(g.ids)) {
        const o = await g.market.getOrder(id);
        expect(o.closed, `order ${id} closed`).to.equal(true);
        expect(o.depositOut).to.equal(o.deposit);
      }

      // One trade per settled order: alice's offer delivered in full, bob's fell short.
      expect(await g.reputation.recordOf(g.alice.address)).to.deep.equal([1n, 1n, 0n]);
      expect(await g.reputation.recordOf(g.bob.address)).to.deep.equal([1n, 0n, 1n]);
      expect(await g.reputation.recordOf(g.dave.address)).to.deep.equal([1n, 0n, 0n]);
      expect(await g.reputation.successRateBps(g.bob.address)).to.equal(0n);
      expect(await g.reputation.successRateBps(g.alice.address)).to.equal(10_000n);

      for (const [who, amount] of [
        [g.alice, 600_000n],
        [g.bob, 175_000n],
        [g.carol, 125_000n],
        [g.dave, 170_000n],
      ] as const) {
        await expect(g.market.connect(who).withdraw(who.address, amount)).to.changeTokenBalances(
          ethers,
          g.token,
          [who, g.market],
          [amount, -amount],
        );
      }
      expect(await g.token.balanceOf(marketAddress)).to.equal(0n);
    });

    it("refuses to settle the same batch twice", async function () {
      const g = await networkHelpers.loadFixture(cleared);
      await clock.to(clock.end(g.t) + 1n);
      await g.report(g.meters.alice, g.t, 3000n);
      await g.report(g.meters.bob, g.t, 2000n);
      await g.market.settleBatch(g.t, 0, g.fills);
      await expect(g.market.settleBatch(g.t, 0, g.fills))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketBatchAlreadySettled")
        .withArgs(g.t, 0);
    });

    it("waits for missing seller readings until the deadline, then counts them as zero delivery", async function () {
      const g = await networkHelpers.loadFixture(cleared);
      await clock.to(clock.end(g.t) + 1n);
      await g.report(g.meters.alice, g.t, 3000n);
      const deadline = clock.end(g.t) + SETTLEMENT_DELAY_SECONDS;
      await expect(g.market.settleBatch(g.t, 0, g.fills))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketReadingMissing")
        .withArgs(g.meters.bob.address, g.t, deadline);

      await clock.to(deadline);
      await expect(g.market.settleBatch(g.t, 0, g.fills))
        .to.emit(g.market, "FillSettled")
        .withArgs(g.t, g.ids.bobOffer, g.ids.daveBid, 0n, 0n, (1500n * PENALTY_PER_KWH) / 1000n);
      // dave paid only alice's 500 Wh and got bob's whole penalty.
      expect(await g.market.balanceOf(g.dave.address)).to.equal(320_000n - 75_000n + 75_000n);
    });

    it("spreads a seller's shortfall pro rata over all its fills", async function () {
      const g = await networkHelpers.loadFixture(cleared);
      await clock.to(clock.end(g.t) + 1n);
      await g.report(g.meters.alice, g.t, 1500n); // half of the 3000 Wh alice sold
      await g.report(g.meters.bob, g.t, 1500n);
      await expect(g.market.settleBatch(g.t, 0, g.fills))
        .to.emit(g.market, "FillSettled")
        .withArgs(g.t, g.ids.aliceOffer, g.ids.carolBid, 1250n, 187_500n, 62_500n)
        .and.to.emit(g.market, "FillSettled")
        .withArgs(g.t, g.ids.aliceOffer, g.ids.daveBid, 250n, 37_500n, 12_500n);
    });

    it("refuses fills that differ from the submitted batch", async function () {
      const g = await networkHelpers.loadFixture(cleared);
      await clock.to(clock.end(g.t) + SETTLEMENT_DELAY_SECONDS);
      const forged = [...g.fills.slice(0, 2), fill(g.ids.bobOffer, g.ids.daveBid, 1499n)];
      await expect(g.market.settleBatch(g.t, 0, forged))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketBatchMismatch")
        .withArgs(g.t, 0);
      await expect(g.market.settleBatch(g.t, 1, g.fills))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketUnknownBatch")
        .withArgs(g.t, 1);
    });

    it("does not settle before the interval has ended", async function () {
      const g = await networkHelpers.loadFixture(cleared);
      await expect(g.market.settleBatch(g.t, 0, g.fills))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketIntervalNotEnded")
        .withArgs(g.t, clock.end(g.t));
    });
  });

  describe("placing and cancelling orders", function () {
    it("escrows the worst-case cost of a bid and the collateral of an offer", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      const bid = await g.market.getOrder(g.ids.carolBid);
      expect(bid.deposit).to.equal((2500n * 200_000n) / 1000n);
      expect(bid.side).to.equal(1n);
      const offer = await g.market.getOrder(g.ids.aliceOffer);
      expect(offer.deposit).to.equal((3000n * PENALTY_PER_KWH) / 1000n);
      expect(offer.penaltyPerKwh).to.equal(PENALTY_PER_KWH);
      expect(await g.token.balanceOf(await g.market.getAddress())).to.equal(1_070_000n);
    });

    it("emits every field needed to rebuild the book", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await expect(g.market.connect(g.alice).placeOffer(g.meters.alice.address, g.t, 10n, 7n))
        .to.emit(g.market, "OfferPlaced")
        .withArgs(5n, g.alice.address, g.t, g.meters.alice.address, 10n, 7n, PENALTY_PER_KWH, 500n);
      await expect(g.market.connect(g.carol).placeBid(g.meters.carol.address, g.t, 10n, 1001n))
        .to.emit(g.market, "BidPlaced")
        .withArgs(6n, g.carol.address, g.t, g.meters.carol.address, 10n, 1001n, 11n); // 10.01 rounded up
    });

    it("refuses orders for a meter the caller does not own, or an inactive one", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await expect(g.market.connect(g.bob).placeOffer(g.meters.alice.address, g.t, 10n, 1n))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketNotMeterOwner")
        .withArgs(g.bob.address, g.meters.alice.address);
      await g.registry.connect(g.alice).deactivate(g.meters.alice.address);
      await expect(g.market.connect(g.alice).placeOffer(g.meters.alice.address, g.t, 10n, 1n))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketMeterInactive")
        .withArgs(g.meters.alice.address);
    });

    it("refuses empty orders, free bids and orders after gate closure", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      const m = g.market.connect(g.carol);
      await expect(m.placeBid(g.meters.carol.address, g.t, 0n, 1n)).to.be.revertedWithCustomError(
        g.market,
        "EnergyMarketZeroAmount",
      );
      await expect(m.placeBid(g.meters.carol.address, g.t, 1n, 0n))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketPriceOutOfRange")
        .withArgs(0n);
      await clock.to(clock.gateClosure(g.t));
      await expect(m.placeBid(g.meters.carol.address, g.t, 1n, 1n))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketGateClosed")
        .withArgs(g.t, clock.gateClosure(g.t));
    });

    it("cancels before gate closure with the whole deposit back, and not after", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await expect(g.market.connect(g.bob).cancelOrder(g.ids.carolBid))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketNotOrderOwner")
        .withArgs(g.bob.address, g.ids.carolBid);
      await expect(g.market.connect(g.carol).cancelOrder(g.ids.carolBid))
        .to.emit(g.market, "OrderCancelled")
        .withArgs(g.ids.carolBid, g.t)
        .and.to.emit(g.market, "OrderReleased")
        .withArgs(g.ids.carolBid, g.carol.address, 500_000n);
      expect(await g.market.balanceOf(g.carol.address)).to.equal(500_000n);
      await expect(g.market.connect(g.carol).cancelOrder(g.ids.carolBid))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketOrderClosed")
        .withArgs(g.ids.carolBid);
      await clock.to(clock.gateClosure(g.t));
      await expect(g.market.connect(g.dave).cancelOrder(g.ids.daveBid)).to.be.revertedWithCustomError(
        g.market,
        "EnergyMarketGateClosed",
      );
      await expect(g.market.connect(g.dave).cancelOrder(99n))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketUnknownOrder")
        .withArgs(99n);
    });
  });

  describe("clearing", function () {
    async function atGateClosure() {
      const g = await marketWithBook();
      await clock.to(clock.gateClosure(g.t));
      return g;
    }

    it("records fills, the obligations they create and the batch hash", async function () {
      const g = await networkHelpers.loadFixture(atGateClosure);
      const fillsHash = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["tuple(uint64 offerId, uint64 bidId, uint48 wh)[]"],
          [g.fills.map((f) => [f.offerId, f.bidId, f.wh])],
        ),
      );
      const tx = g.market.connect(g.matcher).submitClearing(g.t, g.price, g.fills, true);
      await expect(tx).to.emit(g.market, "ClearingFinalized").withArgs(g.t, g.price, 1);
      const receipt = await (await tx).wait();
      const batchEvent = receipt!.logs
        .map((log) => g.market.interface.parseLog(log))
        .find((e) => e?.name === "ClearingBatchSubmitted");
      expect(batchEvent?.args.fillsHash).to.equal(fillsHash);
      const emitted = (batchEvent?.args.fills ?? []) as { offerId: bigint; bidId: bigint; wh: bigint }[];
      expect(emitted.map((f) => [f.offerId, f.bidId, f.wh])).to.deep.equal(
        g.fills.map((f) => [f.offerId, f.bidId, f.wh]),
      );
      expect(await g.market.batchHash(g.t, 0)).to.equal(fillsHash);
      const [, , , aliceObligation] = await g.ledger.delivery(g.meters.alice.address, g.t);
      const [, , , bobObligation] = await g.ledger.delivery(g.meters.bob.address, g.t);
      expect([aliceObligation, bobObligation]).to.deep.equal([3000n, 1500n]);
      expect((await g.market.getOrder(g.ids.daveBid)).filledWh).to.equal(2000n);
      expect(await g.market.getClearing(g.t)).to.deep.equal([g.price, 1n, true]);
    });

    it("accepts a clearing in several batches at one price", async function () {
      const g = await networkHelpers.loadFixture(atGateClosure);
      const matcher = g.market.connect(g.matcher);
      await matcher.submitClearing(g.t, g.price, g.fills.slice(0, 2), false);
      await expect(matcher.submitClearing(g.t, g.price + 1n, g.fills.slice(2), true))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketClearingPriceMismatch")
        .withArgs(g.t, g.price + 1n, g.price);
      await matcher.submitClearing(g.t, g.price, g.fills.slice(2), true);
      expect((await g.market.getClearing(g.t)).batches).to.equal(2n);
      await clock.to(clock.end(g.t) + 1n);
      await g.report(g.meters.alice, g.t, 3000n);
      await g.report(g.meters.bob, g.t, 2000n);
      await g.market.settleBatch(g.t, 1, g.fills.slice(2));
      await g.market.settleBatch(g.t, 0, g.fills.slice(0, 2));
      expect(await g.market.balanceOf(g.alice.address)).to.equal(450_000n + 150_000n);
    });

    it("refuses a second clearing, one before gate closure and one after the start", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      const matcher = g.market.connect(g.matcher);
      await expect(matcher.submitClearing(g.t, g.price, g.fills, true))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketGateOpen")
        .withArgs(g.t, clock.gateClosure(g.t));
      await clock.to(clock.gateClosure(g.t));
      await matcher.submitClearing(g.t, g.price, g.fills.slice(0, 1), true);
      await expect(matcher.submitClearing(g.t, g.price, g.fills.slice(1), true))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketAlreadyCleared")
        .withArgs(g.t);
      await clock.to(clock.start(g.t));
      await expect(matcher.submitClearing(g.t, g.price, g.fills.slice(1), false))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketClearingClosed")
        .withArgs(g.t, clock.start(g.t));
    });

    it("refuses anyone but the matcher", async function () {
      const g = await networkHelpers.loadFixture(atGateClosure);
      await expect(g.market.connect(g.alice).submitClearing(g.t, g.price, g.fills, true))
        .to.be.revertedWithCustomError(g.market, "AccessControlUnauthorizedAccount")
        .withArgs(g.alice.address, await g.market.MATCHER_ROLE());
    });

    it("never trades outside what the users signed up for", async function () {
      const g = await networkHelpers.loadFixture(atGateClosure);
      const matcher = g.market.connect(g.matcher);
      const { aliceOffer, bobOffer, carolBid, daveBid } = g.ids;
      const cases: [bigint, Fill[], string, unknown[]][] = [
        [
          140_000n,
          [fill(bobOffer, carolBid, 1n)],
          "EnergyMarketFillBelowOfferPrice",
          [bobOffer, 140_000n, 150_000n],
        ],
        [
          170_000n,
          [fill(aliceOffer, daveBid, 1n)],
          "EnergyMarketFillAboveBidPrice",
          [daveBid, 170_000n, 160_000n],
        ],
        [
          g.price,
          [fill(aliceOffer, carolBid, 2501n)],
          "EnergyMarketFillExceedsVolume",
          [carolBid, 2501n, 2500n],
        ],
        [
          g.price,
          [fill(aliceOffer, carolBid, 2500n), fill(aliceOffer, daveBid, 501n)],
          "EnergyMarketFillExceedsVolume",
          [aliceOffer, 501n, 500n],
        ],
        [
          g.price,
          [fill(bobOffer, daveBid, 1n), fill(aliceOffer, carolBid, 1n)],
          "EnergyMarketFillsNotSorted",
          [1n],
        ],
        [g.price, [fill(carolBid, daveBid, 1n)], "EnergyMarketWrongSide", [carolBid, 0n]],
        [g.price, [fill(aliceOffer, bobOffer, 1n)], "EnergyMarketWrongSide", [bobOffer, 1n]],
        [g.price, [fill(aliceOffer, carolBid, 0n)], "EnergyMarketZeroAmount", []],
        [g.price, [fill(aliceOffer, 77n, 1n)], "EnergyMarketUnknownOrder", [77n]],
        [0n, [fill(aliceOffer, carolBid, 1n)], "EnergyMarketPriceOutOfRange", [0n]],
        [g.price, [], "EnergyMarketEmptyBatch", []],
      ];
      for (const [price, fills, error, args] of cases) {
        const call = expect(
          matcher.submitClearing(g.t, price, fills, true),
          error,
        ).to.be.revertedWithCustomError(g.market, error);
        if (args.length > 0) await call.withArgs(...args);
        else await call;
      }
      expect((await g.market.getOrder(aliceOffer)).filledWh).to.equal(0n);
      expect((await g.market.getClearing(g.t)).batches).to.equal(0n);
    });

    it("refuses a self-trade and orders of another interval", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await g.market.connect(g.alice).placeBid(g.meters.alice.address, g.t, 100n, 200_000n); // id 5
      const other = g.t + 1n;
      await g.market.connect(g.carol).placeBid(g.meters.carol.address, other, 100n, 200_000n); // id 6
      await clock.to(clock.gateClosure(g.t));
      const matcher = g.market.connect(g.matcher);
      await expect(matcher.submitClearing(g.t, g.price, [fill(g.ids.aliceOffer, 5n, 1n)], true))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketSelfTrade")
        .withArgs(g.ids.aliceOffer, 5n);
      await expect(matcher.submitClearing(g.t, g.price, [fill(g.ids.aliceOffer, 6n, 1n)], true))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketWrongInterval")
        .withArgs(6n, other, g.t);
    });
  });

  describe("releasing, withdrawing and pausing", function () {
    it("releases unfilled orders once the interval has started, to their owners", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await expect(g.market.releaseUnfilled([g.ids.bobOffer]))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketNotReleasable")
        .withArgs(g.ids.bobOffer, clock.start(g.t));
      await clock.to(clock.gateClosure(g.t));
      await g.market.connect(g.matcher).submitClearing(g.t, g.price, g.fills.slice(0, 1), true);
      await clock.to(clock.start(g.t));
      await expect(g.market.connect(g.eve).releaseUnfilled([g.ids.bobOffer, g.ids.daveBid]))
        .to.emit(g.market, "OrderReleased")
        .withArgs(g.ids.bobOffer, g.bob.address, 100_000n)
        .and.to.emit(g.market, "OrderReleased")
        .withArgs(g.ids.daveBid, g.dave.address, 320_000n);
      await expect(g.market.releaseUnfilled([g.ids.aliceOffer]))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketOrderFilled")
        .withArgs(g.ids.aliceOffer);
      await expect(g.market.releaseUnfilled([g.ids.bobOffer]))
        .to.be.revertedWithCustomError(g.market, "EnergyMarketOrderClosed")
        .withArgs(g.ids.bobOffer);
    });

    it("refuses to withdraw more than the balance, nothing, or to the zero address", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await g.market.connect(g.carol).cancelOrder(g.ids.carolBid);
      const m = g.market.connect(g.carol);
      await expect(m.withdraw(g.carol.address, 500_001n))
        .to.be.revertedWithCustomError(g.market, "PullPaymentsInsufficientBalance")
        .withArgs(g.carol.address, 500_001n, 500_000n);
      await expect(m.withdraw(g.carol.address, 0n)).to.be.revertedWithCustomError(
        g.market,
        "PullPaymentsZeroAmount",
      );
      await expect(m.withdraw(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        g.market,
        "PullPaymentsZeroAddress",
      );
      await expect(m.withdraw(g.eve.address, 200_000n))
        .to.emit(g.market, "Withdrawn")
        .withArgs(g.carol.address, g.eve.address, 200_000n);
      expect(await g.market.balanceOf(g.carol.address)).to.equal(300_000n);
    });

    it("stops trading while paused but keeps withdrawals open", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await expect(g.market.connect(g.alice).pause())
        .to.be.revertedWithCustomError(g.market, "AccessControlUnauthorizedAccount")
        .withArgs(g.alice.address, ethers.ZeroHash);
      await g.market.connect(g.carol).cancelOrder(g.ids.carolBid);
      await g.market.connect(g.admin).pause();
      await expect(
        g.market.connect(g.alice).placeOffer(g.meters.alice.address, g.t, 1n, 1n),
      ).to.be.revertedWithCustomError(g.market, "EnforcedPause");
      await clock.to(clock.gateClosure(g.t));
      await expect(
        g.market.connect(g.matcher).submitClearing(g.t, g.price, g.fills, true),
      ).to.be.revertedWithCustomError(g.market, "EnforcedPause");
      await g.market.connect(g.carol).withdraw(g.carol.address, 500_000n);
      await g.market.connect(g.admin).unpause();
      await g.market
        .connect(g.matcher)
        .submitClearing(g.t, g.price, [fill(g.ids.aliceOffer, g.ids.daveBid, 10n)], true);
    });

    it("lets the admin change the penalty for new offers only", async function () {
      const g = await networkHelpers.loadFixture(marketWithBook);
      await expect(g.market.connect(g.admin).setPenaltyPerKwh(1_000n))
        .to.emit(g.market, "PenaltyChanged")
        .withArgs(1_000n);
      await g.market.connect(g.alice).placeOffer(g.meters.alice.address, g.t, 1000n, 1n);
      expect((await g.market.getOrder(5n)).deposit).to.equal(1_000n);
      expect((await g.market.getOrder(g.ids.aliceOffer)).penaltyPerKwh).to.equal(PENALTY_PER_KWH);
      await expect(g.market.connect(g.bob).setPenaltyPerKwh(0n)).to.be.revertedWithCustomError(
        g.market,
        "AccessControlUnauthorizedAccount",
      );
    });
  });
});
