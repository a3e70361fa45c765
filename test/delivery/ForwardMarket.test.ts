import { expect } from "chai";
import { Wallet, ZeroAddress, ZeroHash, id as keccakId } from "ethers";
import { network } from "hardhat";

import {
  type Delivery,
  FUNDS,
  type PricingArgs,
  PRICE,
  Status,
  WH,
  WINDOW,
  balances,
  deployDelivery,
  fixedPrice,
  lockFor,
  pricingTuple,
  unreleased,
} from "../helpers/delivery.js";
import { PENALTY_PER_KWH, SETTLEMENT_DELAY_SECONDS, intervalClock } from "../helpers/gridmesh.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;
const clock = intervalClock(networkHelpers);

type Terms = { firstInterval: bigint; lastInterval: bigint; whPerInterval: bigint; pricing: PricingArgs };

/** The standard forward: WH per interval over WINDOW intervals from t0 at a fixed PRICE. */
const standardTerms = (d: Delivery, pricing = fixedPrice(PRICE)): Terms => ({
  firstInterval: d.t0,
  lastInterval: d.t0 + WINDOW - 1n,
  whPerInterval: WH,
  pricing,
});
const termsTuple = (t: Terms) => [t.firstInterval, t.lastInterval, t.whPerInterval, pricingTuple(t.pricing)];

const SELLER_MARGIN = lockFor(WINDOW * WH, PENALTY_PER_KWH); // 200_000
const BUYER_MARGIN = lockFor(WINDOW * WH, PRICE); // 600_000
const deadlineOf = (t: bigint) => clock.end(t) + SETTLEMENT_DELAY_SECONDS;

async function deployed() {
  return deployDelivery(connection);
}

/** Forward 1: alice offers to sell the standard terms from her meter to bob (named). */
async function proposed() {
  const d = await deployed();
  const terms = standardTerms(d);
  await d.forwards.connect(d.alice).propose(terms, true, d.meters.alice.address, d.bob.address);
  return { ...d, terms, id: 1n };
}

/** Forward 1, accepted by bob with his meter. */
async function accepted() {
  const d = await proposed();
  await d.forwards.connect(d.bob).accept(d.id, d.meters.bob.address);
  return d;
}

/** Forward 1 with intervals t0, t0 + 1 and t0 + 3 committed; t0 + 2 left void. */
async function committed() {
  const d = await accepted();
  for (const t of [d.t0, d.t0 + 1n, d.t0 + 3n]) await d.forwards.connect(d.eve).commitDeliveries([d.id], t);
  return d;
}

/** The forward market holds exactly what its balances and unreleased margins add up to. */
async function expectConserved(d: Delivery, ids: bigint[]) {
  const held = await d.token.balanceOf(await d.forwards.getAddress());
  expect(held).to.equal((await balances(d, d.forwards)) + (await unreleased(d.forwards, ids)));
  return held;
}

describe("ForwardMarket", function () {
  describe("proposing", function () {
    it("locks a selling proposer's margin: the penalty on every Wh", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const terms = standardTerms(d);
      const tx = d.forwards.connect(d.alice).propose(terms, true, d.meters.alice.address, d.bob.address);
      await expect(tx)
        .to.emit(d.forwards, "ForwardProposed")
        .withArgs(
          1n,
          d.alice.address,
          true,
          d.meters.alice.address,
          d.bob.address,
          termsTuple(terms),
          PENALTY_PER_KWH,
          SELLER_MARGIN,
        );
      await expect(tx).to.changeTokenBalances(
        ethers,
        d.token,
        [d.alice, d.forwards],
        [-SELLER_MARGIN, SELLER_MARGIN],
      );
      const s = await d.forwards.getSchedule(1n);
      expect(s.status).to.equal(Status.Proposed);
      expect([s.seller, s.sellerMeter, s.sellerMargin, s.sellerMarginOut]).to.deep.equal([
        d.alice.address,
        d.meters.alice.address,
        SELLER_MARGIN,
        0n,
      ]);
      expect([s.buyer, s.buyerMeter, s.buyerMargin]).to.deep.equal([ZeroAddress, ZeroAddress, 0n]);
      expect([s.firstInterval, s.lastInterval, s.whPerInterval, s.penaltyPerKwh]).to.deep.equal([
        d.t0,
        d.t0 + WINDOW - 1n,
        WH,
        PENALTY_PER_KWH,
      ]);
      expect(s.pricing).to.deep.equal(pricingTuple(terms.pricing));
      expect(await d.forwards.counterpartyOf(1n)).to.equal(d.bob.address);
      expect(await d.forwards.nextId()).to.equal(2n);
    });

    it("locks a buying proposer's margin: every Wh at the price cap", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const pricing = { ...fixedPrice(PRICE), floor: 100_000n, cap: 200_000n, indexId: keccakId("temp") };
      const terms = standardTerms(d, pricing);
      const margin = lockFor(WINDOW * WH, 200_000n);
      expect(margin).to.equal(800_000n);
      const tx = d.forwards.connect(d.bob).propose(terms, false, d.meters.bob.address, ZeroAddress);
      await expect(tx)
        .to.emit(d.forwards, "ForwardProposed")
        .withArgs(
          1n,
          d.bob.address,
          false,
          d.meters.bob.address,
          ZeroAddress,
          termsTuple(terms),
          PENALTY_PER_KWH,
          margin,
        );
      await expect(tx).to.changeTokenBalances(ethers, d.token, [d.bob, d.forwards], [-margin, margin]);
      const s = await d.forwards.getSchedule(1n);
      expect([s.buyer, s.buyerMeter, s.buyerMargin, s.seller, s.sellerMargin]).to.deep.equal([
        d.bob.address,
        d.meters.bob.address,
        margin,
        ZeroAddress,
        0n,
      ]);
    });

    it("rounds both margins up to the next base unit and keeps each schedule's penalty", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      await d.forwards.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress);
      await expect(d.forwards.connect(d.admin).setPenaltyPerKwh(1_001n))
        .to.emit(d.forwards, "PenaltyChanged")
        .withArgs(1_001n);
      // 3 × 333 Wh at 1.001 per Wh = 999.999 → 1000.
      const sell = { ...standardTerms(d), lastInterval: d.t0 + 2n, whPerInterval: 333n };
      await expect(d.forwards.connect(d.alice).propose(sell, true, d.meters.alice.address, ZeroAddress))
        .to.emit(d.forwards, "ForwardProposed")
        .withArgs(
          2n,
          d.alice.address,
          true,
          d.meters.alice.address,
          ZeroAddress,
          termsTuple(sell),
          1_001n,
          1_000n,
        );
      // 3 × 1 Wh at 150.001 per Wh = 450.003 → 451.
      const buy = { ...standardTerms(d, fixedPrice(150_001n)), lastInterval: d.t0 + 2n, whPerInterval: 1n };
      await expect(d.forwards.connect(d.bob).propose(buy, false, d.meters.bob.address, ZeroAddress))
        .to.emit(d.forwards, "ForwardProposed")
        .withArgs(3n, d.bob.address, false, d.meters.bob.address, ZeroAddress, termsTuple(buy), 1_001n, 451n);
      expect((await d.forwards.getSchedule(1n)).penaltyPerKwh).to.equal(PENALTY_PER_KWH);
      expect((await d.forwards.getSchedule(2n)).penaltyPerKwh).to.equal(1_001n);
      expect(await d.forwards.penaltyPerKwh()).to.equal(1_001n);
      await expect(d.forwards.connect(d.alice).setPenaltyPerKwh(0n))
        .to.be.revertedWithCustomError(d.forwards, "AccessControlUnauthorizedAccount")
        .withArgs(d.alice.address, ZeroHash);
    });

    it("refuses no volume, an inverted window and one longer than MAX_WINDOW_INTERVALS", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const max = await d.forwards.MAX_WINDOW_INTERVALS();
      expect(max).to.equal(2_976n);
      const base = { ...standardTerms(d), whPerInterval: 1n };
      const f = d.forwards.connect(d.alice);
      const meter = d.meters.alice.address;
      const cases: Terms[] = [
        { ...base, whPerInterval: 0n },
        { ...base, lastInterval: d.t0 - 1n },
        { ...base, lastInterval: d.t0 + max },
      ];
      for (const terms of cases) {
        await expect(f.propose(terms, true, meter, ZeroAddress))
          .to.be.revertedWithCustomError(d.forwards, "ForwardMarketInvalidTerms")
          .withArgs(terms.firstInterval, terms.lastInterval, terms.whPerInterval);
      }
      expect(await d.forwards.nextId()).to.equal(1n);
      expect(await d.token.balanceOf(await d.forwards.getAddress())).to.equal(0n);

      // Exactly MAX_WINDOW_INTERVALS intervals, and a single one, are fine.
      await f.propose({ ...base, lastInterval: d.t0 + max - 1n }, true, meter, ZeroAddress);
      expect((await d.forwards.getSchedule(1n)).sellerMargin).to.equal(lockFor(max, PENALTY_PER_KWH));
      await f.propose({ ...base, lastInterval: d.t0 }, true, meter, ZeroAddress);
      expect((await d.forwards.getSchedule(2n)).sellerMargin).to.equal(lockFor(1n, PENALTY_PER_KWH));
    });

    it("refuses inconsistent pricing", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const index = keccakId("temp");
      const cases: PricingArgs[] = [
        // floor above base
        { ...fixedPrice(100_000n), floor: 100_001n, cap: 200_000n, indexId: index },
        // base above cap
        { ...fixedPrice(200_001n), floor: 0n, cap: 200_000n, indexId: index },
        // cap zero (everything zero)
        { ...fixedPrice(0n), indexId: index },
        { ...fixedPrice(0n) },
        // a fixed price whose floor or cap differs from its base
        { ...fixedPrice(PRICE), floor: 100_000n },
        { ...fixedPrice(PRICE), cap: 200_000n },
      ];
      for (const pricing of cases) {
        await expect(
          d.forwards
            .connect(d.alice)
            .propose(standardTerms(d, pricing), true, d.meters.alice.address, ZeroAddress),
        )
          .to.be.revertedWithCustomError(d.forwards, "PricingInvalid")
          .withArgs(pricing.basePrice, pricing.floor, pricing.cap);
      }
      expect(await d.forwards.nextId()).to.equal(1n);
      expect(await d.token.balanceOf(await d.forwards.getAddress())).to.equal(0n);
      // floor = base = cap with an index is consistent (the index then changes nothing).
      await d.forwards
        .connect(d.alice)
        .propose(
          standardTerms(d, { ...fixedPrice(PRICE), indexId: index }),
          true,
          d.meters.alice.address,
          ZeroAddress,
        );
    });

    it("accepts proposals until the window's first gate closure, not from then on", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const gate = clock.gateClosure(d.t0);
      const f = d.forwards.connect(d.alice);
      await time.setNextBlockTimestamp(gate - 1n);
      await f.propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress);
      await time.setNextBlockTimestamp(gate);
      await expect(f.propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress))
        .to.be.revertedWithCustomError(d.forwards, "ForwardMarketTooLate")
        .withArgs(d.t0, gate);
      expect(await d.forwards.nextId()).to.equal(2n);
    });

    it("refuses a meter the proposer does not own, or an inactive one", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const terms = standardTerms(d);
      await expect(d.forwards.connect(d.bob).propose(terms, true, d.meters.alice.address, ZeroAddress))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryNotMeterOwner")
        .withArgs(d.bob.address, d.meters.alice.address);
      const stranger = Wallet.createRandom().address;
      await expect(d.forwards.connect(d.bob).propose(terms, false, stranger, ZeroAddress))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryNotMeterOwner")
        .withArgs(d.bob.address, stranger);
      const { meter: pending } = await d.enrollMeter(d.bob);
      await expect(d.forwards.connect(d.bob).propose(terms, false, pending.address, ZeroAddress))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryMeterInactive")
        .withArgs(pending.address);
      await d.registry.connect(d.alice).deactivate(d.meters.alice.address);
      await expect(d.forwards.connect(d.alice).propose(terms, true, d.meters.alice.address, ZeroAddress))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryMeterInactive")
        .withArgs(d.meters.alice.address);
      expect(await d.forwards.nextId()).to.equal(1n);
    });
  });

  describe("accepting", function () {
    it("lets the named counterparty accept, posting the other side's margin", async function () {
      const d = await networkHelpers.loadFixture(proposed);
      await expect(d.forwards.connect(d.carol).accept(d.id, d.meters.carol.address))
        .to.be.revertedWithCustomError(d.forwards, "ForwardMarketNotCounterparty")
        .withArgs(d.id, d.carol.address, d.bob.address);
      expect((await d.forwards.getSchedule(d.id)).status).to.equal(Status.Proposed);

      const tx = d.forwards.connect(d.bob).accept(d.id, d.meters.bob.address);
      await expect(tx)
        .to.emit(d.forwards, "ForwardAccepted")
        .withArgs(d.id, d.bob.address, d.meters.bob.address, BUYER_MARGIN);
      await expect(tx).to.changeTokenBalances(
        ethers,
        d.token,
        [d.bob, d.forwards],
        [-BUYER_MARGIN, BUYER_MARGIN],
      );
      const s = await d.forwards.getSchedule(d.id);
      expect(s.status).to.equal(Status.Active);
      expect([s.seller, s.buyer, s.buyerMeter, s.buyerMargin, s.sellerMargin]).to.deep.equal([
        d.alice.address,
        d.bob.address,
        d.meters.bob.address,
        BUYER_MARGIN,
        SELLER_MARGIN,
      ]);
      expect(await d.token.balanceOf(await d.forwards.getAddress())).to.equal(SELLER_MARGIN + BUYER_MARGIN);
    });

    it("lets anyone accept an open proposal, taking the side the proposer left", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      await d.forwards.connect(d.bob).propose(standardTerms(d), false, d.meters.bob.address, ZeroAddress);
      expect(await d.forwards.counterpartyOf(1n)).to.equal(ZeroAddress);
      const tx = d.forwards.connect(d.carol).accept(1n, d.meters.carol.address);
      await expect(tx)
        .to.emit(d.forwards, "ForwardAccepted")
        .withArgs(1n, d.carol.address, d.meters.carol.address, SELLER_MARGIN);
      await expect(tx).to.changeTokenBalances(
        ethers,
        d.token,
        [d.carol, d.forwards],
        [-SELLER_MARGIN, SELLER_MARGIN],
      );
      const s = await d.forwards.getSchedule(1n);
      expect([s.status, s.seller, s.sellerMeter, s.sellerMargin, s.buyer]).to.deep.equal([
        Status.Active,
        d.carol.address,
        d.meters.carol.address,
        SELLER_MARGIN,
        d.bob.address,
      ]);
    });

    it("refuses the proposer itself, unknown or taken proposals and late acceptances", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const f = d.forwards;
      await f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress); // 1
      // Naming oneself as counterparty would lock the margin in a proposal nobody can accept.
      await expect(
        f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, d.alice.address),
      )
        .to.be.revertedWithCustomError(f, "ForwardMarketInvalidCounterparty")
        .withArgs(d.alice.address);
      await expect(f.connect(d.alice).accept(1n, d.meters.alice.address))
        .to.be.revertedWithCustomError(f, "ForwardMarketSelfAccept")
        .withArgs(1n);
      await expect(f.connect(d.bob).accept(9n, d.meters.bob.address))
        .to.be.revertedWithCustomError(f, "ForwardMarketNotProposed")
        .withArgs(9n);
      await f.connect(d.bob).accept(1n, d.meters.bob.address);
      await expect(f.connect(d.carol).accept(1n, d.meters.carol.address))
        .to.be.revertedWithCustomError(f, "ForwardMarketNotProposed")
        .withArgs(1n);
      expect((await f.getSchedule(1n)).buyer).to.equal(d.bob.address);

      await f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress); // 2
      const gate = clock.gateClosure(d.t0);
      await time.setNextBlockTimestamp(gate);
      await expect(f.connect(d.carol).accept(2n, d.meters.carol.address))
        .to.be.revertedWithCustomError(f, "ForwardMarketTooLate")
        .withArgs(d.t0, gate);
      expect((await f.getSchedule(2n)).status).to.equal(Status.Proposed);
    });

    it("refuses an acceptor's meter it does not own or that is inactive", async function () {
      const d = await networkHelpers.loadFixture(proposed);
      await expect(d.forwards.connect(d.bob).accept(d.id, d.meters.carol.address))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryNotMeterOwner")
        .withArgs(d.bob.address, d.meters.carol.address);
      await d.registry.connect(d.bob).deactivate(d.meters.bob.address);
      await expect(d.forwards.connect(d.bob).accept(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryMeterInactive")
        .withArgs(d.meters.bob.address);
      expect((await d.forwards.getSchedule(d.id)).status).to.equal(Status.Proposed);
      expect(await d.token.balanceOf(await d.forwards.getAddress())).to.equal(SELLER_MARGIN);
    });
  });

  describe("cancelling a proposal", function () {
    it("credits a selling proposer's margin back, to be withdrawn", async function () {
      const d = await networkHelpers.loadFixture(proposed);
      await expect(d.forwards.connect(d.bob).cancelProposal(d.id))
        .to.be.revertedWithCustomError(d.forwards, "ForwardMarketNotProposer")
        .withArgs(d.id, d.bob.address);
      const tx = d.forwards.connect(d.alice).cancelProposal(d.id);
      await expect(tx).to.emit(d.forwards, "ForwardCancelled").withArgs(d.id);
      await expect(tx).to.emit(d.forwards, "ScheduleCompleted").withArgs(d.id, SELLER_MARGIN, 0n);
      await expect(tx).not.to.emit(d.reputation, "ReputationUpdated");
      await expect(tx).to.changeTokenBalances(ethers, d.token, [d.alice, d.forwards], [0n, 0n]);
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(SELLER_MARGIN);
      const s = await d.forwards.getSchedule(d.id);
      expect([s.status, s.sellerMarginOut]).to.deep.equal([Status.Closed, SELLER_MARGIN]);

      await expect(d.forwards.connect(d.alice).cancelProposal(d.id))
        .to.be.revertedWithCustomError(d.forwards, "ForwardMarketNotProposed")
        .withArgs(d.id);
      await expect(d.forwards.connect(d.bob).accept(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.forwards, "ForwardMarketNotProposed")
        .withArgs(d.id);
      await expect(
        d.forwards.connect(d.alice).withdraw(d.alice.address, SELLER_MARGIN),
      ).to.changeTokenBalances(ethers, d.token, [d.alice, d.forwards], [SELLER_MARGIN, -SELLER_MARGIN]);
      expect(await d.token.balanceOf(await d.forwards.getAddress())).to.equal(0n);
    });

    it("credits a buying proposer's margin back", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      await d.forwards.connect(d.bob).propose(standardTerms(d), false, d.meters.bob.address, ZeroAddress);
      await expect(d.forwards.connect(d.bob).cancelProposal(1n))
        .to.emit(d.forwards, "ScheduleCompleted")
        .withArgs(1n, 0n, BUYER_MARGIN);
      expect(await d.forwards.balanceOf(d.bob.address)).to.equal(BUYER_MARGIN);
      expect(await d.forwards.balanceOf(ZeroAddress)).to.equal(0n);
    });

    it("refuses to cancel an accepted forward or an unknown one", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      for (const who of [d.alice, d.bob]) {
        await expect(d.forwards.connect(who).cancelProposal(d.id))
          .to.be.revertedWithCustomError(d.forwards, "ForwardMarketNotProposed")
          .withArgs(d.id);
      }
      await expect(d.forwards.connect(d.alice).cancelProposal(7n))
        .to.be.revertedWithCustomError(d.forwards, "ForwardMarketNotProposed")
        .withArgs(7n);
      expect((await d.forwards.getSchedule(d.id)).status).to.equal(Status.Active);
    });

    it("cancels after the gate has closed and while paused", async function () {
      const d = await networkHelpers.loadFixture(proposed);
      await d.forwards.connect(d.admin).pause();
      await clock.to(clock.end(d.t0));
      await expect(d.forwards.connect(d.alice).cancelProposal(d.id))
        .to.emit(d.forwards, "ScheduleCompleted")
        .withArgs(d.id, SELLER_MARGIN, 0n);
    });
  });

  describe("committing deliveries", function () {
    it("records an interval's obligation in the ledger, for anyone who asks", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      const tx = d.forwards.connect(d.eve).commitDeliveries([d.id], d.t0);
      await expect(tx).to.emit(d.forwards, "DeliveryCommitted").withArgs(d.id, d.t0, WH);
      await expect(tx)
        .to.emit(d.ledger, "ObligationAdded")
        .withArgs(d.meters.alice.address, d.t0, await d.forwards.getAddress(), WH);
      const [recorded, , , obligation] = await d.ledger.delivery(d.meters.alice.address, d.t0);
      expect([recorded, obligation]).to.deep.equal([false, WH]);
      expect(await d.forwards.intervalState(d.id, d.t0)).to.equal(1n);
      expect(await d.forwards.intervalState(d.id, d.t0 + 1n)).to.equal(0n);
    });

    it("adds up the obligations of several forwards on one meter", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      const half = { ...standardTerms(d), whPerInterval: WH / 2n };
      await d.forwards.connect(d.alice).propose(half, true, d.meters.alice.address, ZeroAddress);
      await d.forwards.connect(d.carol).accept(2n, d.meters.carol.address);
      await d.forwards.commitDeliveries([d.id, 2n], d.t0 + 1n);
      const [, , , obligation] = await d.ledger.delivery(d.meters.alice.address, d.t0 + 1n);
      expect(obligation).to.equal(WH + WH / 2n);
    });

    it("refuses intervals outside the window, a second commitment and inactive schedules", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      const f = d.forwards;
      for (const t of [d.t0 - 1n, d.t0 + WINDOW]) {
        await expect(f.commitDeliveries([d.id], t))
          .to.be.revertedWithCustomError(f, "ScheduledDeliveryOutsideWindow")
          .withArgs(d.id, t);
      }
      await f.commitDeliveries([d.id], d.t0);
      await expect(f.commitDeliveries([d.id], d.t0))
        .to.be.revertedWithCustomError(f, "ScheduledDeliveryAlreadyCommitted")
        .withArgs(d.id, d.t0);

      // A proposal, a cancelled one and an unknown id are not active; a batch is all or nothing.
      await f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress); // 2
      await f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress); // 3
      await f.connect(d.alice).cancelProposal(3n);
      for (const id of [2n, 3n, 99n]) {
        await expect(f.commitDeliveries([d.id, id], d.t0 + 1n))
          .to.be.revertedWithCustomError(f, "ScheduledDeliveryNotActive")
          .withArgs(id);
      }
      expect(await f.intervalState(d.id, d.t0 + 1n)).to.equal(0n);
      const [, , , obligation] = await d.ledger.delivery(d.meters.alice.address, d.t0 + 1n);
      expect(obligation).to.equal(0n);
    });

    it("refuses an interval that has started, through the ledger", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      await time.setNextBlockTimestamp(clock.start(d.t0));
      await expect(d.forwards.commitDeliveries([d.id], d.t0))
        .to.be.revertedWithCustomError(d.ledger, "DeliveryLedgerObligationTooLate")
        .withArgs(d.meters.alice.address, d.t0, clock.start(d.t0));
      expect(await d.forwards.intervalState(d.id, d.t0)).to.equal(0n);
      // Later intervals can still be committed.
      await d.forwards.commitDeliveries([d.id], d.t0 + 1n);
    });
  });

  describe("settling deliveries", function () {
    it("pays a full delivery at the forward price", async function () {
      const d = await networkHelpers.loadFixture(committed);
      await clock.to(clock.end(d.t0));
      await d.report(d.meters.alice, d.t0, WH);
      const tx = d.forwards.connect(d.eve).settleDeliveries(d.id, [d.t0]);
      await expect(tx).to.emit(d.forwards, "DeliverySettled").withArgs(d.id, d.t0, WH, PRICE, 150_000n, 0n);
      await expect(tx).not.to.emit(d.forwards, "ScheduleCompleted");
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(150_000n);
      expect(await d.forwards.balanceOf(d.bob.address)).to.equal(0n);
      const s = await d.forwards.getSchedule(d.id);
      expect([s.buyerMarginOut, s.sellerMarginOut, s.settledIntervals, s.shortfall]).to.deep.equal([
        150_000n,
        0n,
        1n,
        false,
      ]);
      expect(await d.forwards.intervalState(d.id, d.t0)).to.equal(2n);
      await expectConserved(d, [d.id]);
    });

    it("counts an export beyond the obligation as full delivery, no more", async function () {
      const d = await networkHelpers.loadFixture(committed);
      await clock.to(clock.end(d.t0));
      await d.report(d.meters.alice, d.t0, 5n * WH);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(d.id, d.t0, WH, PRICE, 150_000n, 0n);
    });

    it("pays the delivered share of a shortfall and the penalty on the rest to the buyer", async function () {
      const d = await networkHelpers.loadFixture(committed);
      await clock.to(clock.end(d.t0));
      await d.report(d.meters.alice, d.t0, 400n);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(d.id, d.t0, 400n, PRICE, 60_000n, 30_000n);
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(60_000n);
      expect(await d.forwards.balanceOf(d.bob.address)).to.equal(30_000n);
      const s = await d.forwards.getSchedule(d.id);
      expect([s.buyerMarginOut, s.sellerMarginOut, s.shortfall]).to.deep.equal([60_000n, 30_000n, true]);
      await expectConserved(d, [d.id]);
    });

    it("waits for a missing reading until the deadline, then counts no delivery", async function () {
      const d = await networkHelpers.loadFixture(committed);
      const deadline = deadlineOf(d.t0);
      await time.setNextBlockTimestamp(deadline - 1n);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryReadingMissing")
        .withArgs(d.meters.alice.address, d.t0, deadline);
      expect(await d.forwards.intervalState(d.id, d.t0)).to.equal(1n);
      expect((await d.forwards.getSchedule(d.id)).settledIntervals).to.equal(0n);

      await time.setNextBlockTimestamp(deadline);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(d.id, d.t0, 0n, PRICE, 0n, 50_000n);
      expect(await d.forwards.balanceOf(d.bob.address)).to.equal(50_000n);
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(0n);
    });

    it("voids an interval nobody committed, moving no money", async function () {
      const d = await networkHelpers.loadFixture(committed);
      const t = d.t0 + 2n;
      await clock.to(clock.end(t));
      const tx = d.forwards.settleDeliveries(d.id, [t]);
      await expect(tx).to.emit(d.forwards, "DeliveryVoided").withArgs(d.id, t);
      await expect(tx).not.to.emit(d.forwards, "DeliverySettled");
      await expect(tx).to.changeTokenBalances(ethers, d.token, [d.forwards], [0n]);
      const s = await d.forwards.getSchedule(d.id);
      expect([s.buyerMarginOut, s.sellerMarginOut, s.settledIntervals]).to.deep.equal([0n, 0n, 1n]);
      expect(await d.forwards.intervalState(d.id, t)).to.equal(2n);
      expect(await balances(d, d.forwards)).to.equal(0n);
      await expect(d.forwards.settleDeliveries(d.id, [t]))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryAlreadySettled")
        .withArgs(d.id, t);
    });

    it("refuses intervals that have not ended, lie outside the window or were settled", async function () {
      const d = await networkHelpers.loadFixture(committed);
      const f = d.forwards;
      await time.setNextBlockTimestamp(clock.end(d.t0) - 1n);
      await expect(f.settleDeliveries(d.id, [d.t0]))
        .to.be.revertedWithCustomError(f, "ScheduledDeliveryIntervalNotEnded")
        .withArgs(d.t0, clock.end(d.t0));
      await clock.to(clock.end(d.t0));
      await d.report(d.meters.alice, d.t0, WH);
      for (const t of [d.t0 - 1n, d.t0 + WINDOW]) {
        await expect(f.settleDeliveries(d.id, [t]))
          .to.be.revertedWithCustomError(f, "ScheduledDeliveryOutsideWindow")
          .withArgs(d.id, t);
      }
      await expect(f.settleDeliveries(d.id, [d.t0, d.t0]))
        .to.be.revertedWithCustomError(f, "ScheduledDeliveryAlreadySettled")
        .withArgs(d.id, d.t0);
      // The whole call reverted: nothing was settled.
      expect(await f.intervalState(d.id, d.t0)).to.equal(1n);
      await f.settleDeliveries(d.id, [d.t0]);
      await expect(f.settleDeliveries(d.id, [d.t0]))
        .to.be.revertedWithCustomError(f, "ScheduledDeliveryAlreadySettled")
        .withArgs(d.id, d.t0);
      expect(await f.balanceOf(d.alice.address)).to.equal(150_000n);
      expect((await f.getSchedule(d.id)).settledIntervals).to.equal(1n);
    });

    it("refuses to settle proposals and unknown schedules", async function () {
      const d = await networkHelpers.loadFixture(proposed);
      await clock.to(clock.end(d.t0));
      for (const id of [d.id, 5n]) {
        await expect(d.forwards.settleDeliveries(id, [d.t0]))
          .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryNotActive")
          .withArgs(id);
      }
    });
  });

  describe("completing", function () {
    it("releases what is left of the margins, records reputation and conserves every unit", async function () {
      const d = await networkHelpers.loadFixture(committed);
      const f = d.forwards;
      expect(await expectConserved(d, [d.id])).to.equal(SELLER_MARGIN + BUYER_MARGIN);

      await clock.to(clock.end(d.t0 + 1n));
      await d.report(d.meters.alice, d.t0, WH);
      await d.report(d.meters.alice, d.t0 + 1n, 400n);
      const first = f.settleDeliveries(d.id, [d.t0 + 1n, d.t0]);
      await expect(first)
        .to.emit(f, "DeliverySettled")
        .withArgs(d.id, d.t0 + 1n, 400n, PRICE, 60_000n, 30_000n);
      await expect(first).to.emit(f, "DeliverySettled").withArgs(d.id, d.t0, WH, PRICE, 150_000n, 0n);
      await expectConserved(d, [d.id]);

      await clock.to(clock.end(d.t0 + 2n));
      await expect(f.settleDeliveries(d.id, [d.t0 + 2n]))
        .to.emit(f, "DeliveryVoided")
        .withArgs(d.id, d.t0 + 2n);
      await expectConserved(d, [d.id]);

      // No reading for t0 + 3: zero delivery once its deadline has passed.
      await clock.to(deadlineOf(d.t0 + 3n));
      const sellerReleased = SELLER_MARGIN - 30_000n - 50_000n;
      const buyerReleased = BUYER_MARGIN - 150_000n - 60_000n;
      expect([sellerReleased, buyerReleased]).to.deep.equal([120_000n, 390_000n]);
      const last = f.connect(d.eve).settleDeliveries(d.id, [d.t0 + 3n]);
      await expect(last)
        .to.emit(f, "DeliverySettled")
        .withArgs(d.id, d.t0 + 3n, 0n, PRICE, 0n, 50_000n);
      await expect(last).to.emit(f, "ScheduleCompleted").withArgs(d.id, sellerReleased, buyerReleased);
      await expect(last).to.emit(d.reputation, "ReputationUpdated").withArgs(d.alice.address, 1n, 0n, 1n);
      await expect(last).to.emit(d.reputation, "ReputationUpdated").withArgs(d.bob.address, 1n, 0n, 0n);

      const s = await f.getSchedule(d.id);
      expect([s.status, s.settledIntervals, s.sellerMarginOut, s.buyerMarginOut]).to.deep.equal([
        Status.Closed,
        WINDOW,
        SELLER_MARGIN,
        BUYER_MARGIN,
      ]);
      expect(await d.reputation.recordOf(d.alice.address)).to.deep.equal([1n, 0n, 1n]);
      expect(await d.reputation.recordOf(d.bob.address)).to.deep.equal([1n, 0n, 0n]);
      expect(await d.reputation.successRateBps(d.alice.address)).to.equal(0n);

      const alice = 150_000n + 60_000n + sellerReleased;
      const bob = 30_000n + 50_000n + buyerReleased;
      expect(await f.balanceOf(d.alice.address)).to.equal(alice);
      expect(await f.balanceOf(d.bob.address)).to.equal(bob);
      expect(await expectConserved(d, [d.id])).to.equal(alice + bob);
      expect(await unreleased(f, [d.id])).to.equal(0n);

      await expect(f.settleDeliveries(d.id, [d.t0 + 3n]))
        .to.be.revertedWithCustomError(f, "ScheduledDeliveryNotActive")
        .withArgs(d.id);
      for (const [who, amount] of [
        [d.alice, alice],
        [d.bob, bob],
      ] as const) {
        await expect(f.connect(who).withdraw(who.address, amount)).to.changeTokenBalances(
          ethers,
          d.token,
          [who, f],
          [amount, -amount],
        );
      }
      expect(await d.token.balanceOf(await f.getAddress())).to.equal(0n);
      // Each party ends where it started, plus or minus what changed hands.
      expect(await d.token.balanceOf(d.alice.address)).to.equal(FUNDS + 210_000n - 80_000n);
      expect(await d.token.balanceOf(d.bob.address)).to.equal(FUNDS - 210_000n + 80_000n);
    });

    it("records a full delivery and returns the whole seller margin", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      const window = Array.from({ length: Number(WINDOW) }, (_, i) => d.t0 + BigInt(i));
      for (const t of window) await d.forwards.commitDeliveries([d.id], t);
      // Each reading arrives right after its interval, within its deadline.
      for (const t of window) {
        await clock.to(clock.end(t));
        await d.report(d.meters.alice, t, WH);
      }
      const tx = d.forwards.settleDeliveries(d.id, window);
      await expect(tx).to.emit(d.forwards, "ScheduleCompleted").withArgs(d.id, SELLER_MARGIN, 0n);
      await expect(tx).to.emit(d.reputation, "ReputationUpdated").withArgs(d.alice.address, 1n, 1n, 0n);
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(BUYER_MARGIN + SELLER_MARGIN);
      expect(await d.forwards.balanceOf(d.bob.address)).to.equal(0n);
      expect(await d.reputation.recordOf(d.alice.address)).to.deep.equal([1n, 1n, 0n]);
      expect(await d.reputation.recordOf(d.bob.address)).to.deep.equal([1n, 0n, 0n]);
      expect(await d.reputation.successRateBps(d.alice.address)).to.equal(10_000n);
      await expectConserved(d, [d.id]);
    });

    it("completes a forward nobody committed with both margins back in full", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      await clock.to(clock.end(d.t0 + WINDOW - 1n));
      const window = Array.from({ length: Number(WINDOW) }, (_, i) => d.t0 + BigInt(i));
      await expect(d.forwards.settleDeliveries(d.id, window))
        .to.emit(d.forwards, "ScheduleCompleted")
        .withArgs(d.id, SELLER_MARGIN, BUYER_MARGIN);
      // A forward of which nothing was ever owed is no trade: no reputation for either side.
      expect(await d.reputation.recordOf(d.alice.address)).to.deep.equal([0n, 0n, 0n]);
      expect(await d.reputation.recordOf(d.bob.address)).to.deep.equal([0n, 0n, 0n]);
    });
  });

  describe("index-priced forwards", function () {
    const INDEX = keccakId("gridmesh/temperature");
    const indexPricing: PricingArgs = {
      basePrice: PRICE,
      slope: 1_000n,
      referenceValue: 20n,
      floor: 100_000n,
      cap: 200_000n,
      indexId: INDEX,
    };
    const INTERVALS = 6n;

    /** Forward 1 following INDEX over six intervals from t0, all committed. */
    async function indexed() {
      const d = await deployed();
      const terms = { ...standardTerms(d, indexPricing), lastInterval: d.t0 + INTERVALS - 1n };
      await d.forwards.connect(d.alice).propose(terms, true, d.meters.alice.address, d.bob.address);
      await d.forwards.connect(d.bob).accept(1n, d.meters.bob.address);
      for (let t = d.t0; t < d.t0 + INTERVALS; t++) await d.forwards.commitDeliveries([1n], t);
      return { ...d, id: 1n };
    }

    it("sizes the buyer's margin on the cap", async function () {
      const d = await networkHelpers.loadFixture(indexed);
      const s = await d.forwards.getSchedule(d.id);
      expect(s.buyerMargin).to.equal(lockFor(INTERVALS * WH, 200_000n));
      expect(s.sellerMargin).to.equal(lockFor(INTERVALS * WH, PENALTY_PER_KWH));
    });

    it("prices each interval at base + slope × (index − reference), clamped to floor and cap", async function () {
      const d = await networkHelpers.loadFixture(indexed);
      // index → price: inside the band, exactly at the cap, above it, exactly at the floor, below it.
      const cases: [bigint, bigint][] = [
        [30n, 160_000n],
        [70n, 200_000n],
        [81n, 200_000n],
        [-30n, 100_000n],
        [-41n, 100_000n],
        [19n, 149_000n],
      ];
      const window = cases.map((_, i) => d.t0 + BigInt(i));
      for (const [i, [value]] of cases.entries()) {
        await clock.to(clock.end(window[i]!));
        await d.oracle.connect(d.matcher).post(INDEX, window[i]!, value);
        await d.report(d.meters.alice, window[i]!, WH);
      }
      const tx = d.forwards.settleDeliveries(d.id, window);
      for (const [i, [, price]] of cases.entries()) {
        await expect(tx)
          .to.emit(d.forwards, "DeliverySettled")
          .withArgs(d.id, window[i]!, WH, price, price, 0n);
      }
      const paid = cases.reduce((sum, [, price]) => sum + price, 0n);
      expect(paid).to.equal(909_000n);
      await expect(tx)
        .to.emit(d.forwards, "ScheduleCompleted")
        .withArgs(d.id, lockFor(INTERVALS * WH, PENALTY_PER_KWH), lockFor(INTERVALS * WH, 200_000n) - paid);
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(paid + 300_000n);
      await expectConserved(d, [d.id]);
    });

    it("follows a negative slope too", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const pricing = { ...indexPricing, slope: -2_000n };
      const terms = { ...standardTerms(d, pricing), lastInterval: d.t0 + 1n };
      await d.forwards.connect(d.alice).propose(terms, true, d.meters.alice.address, ZeroAddress);
      await d.forwards.connect(d.carol).accept(1n, d.meters.carol.address);
      await d.forwards.commitDeliveries([1n], d.t0);
      await d.forwards.commitDeliveries([1n], d.t0 + 1n);
      await clock.to(clock.end(d.t0 + 1n));
      await d.oracle.connect(d.matcher).post(INDEX, d.t0, 10n); // 150 000 + 20 000
      await d.oracle.connect(d.matcher).post(INDEX, d.t0 + 1n, 50n); // 150 000 − 60 000 → floor
      await d.report(d.meters.alice, d.t0, WH);
      await d.report(d.meters.alice, d.t0 + 1n, WH / 2n);
      const tx = d.forwards.settleDeliveries(1n, [d.t0, d.t0 + 1n]);
      await expect(tx).to.emit(d.forwards, "DeliverySettled").withArgs(1n, d.t0, WH, 170_000n, 170_000n, 0n);
      await expect(tx)
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(1n, d.t0 + 1n, WH / 2n, 100_000n, 50_000n, 25_000n);
    });

    it("waits for a missing index value until the deadline, then pays the base price", async function () {
      const d = await networkHelpers.loadFixture(indexed);
      const deadline = deadlineOf(d.t0);
      await clock.to(clock.end(d.t0));
      // Without reading nor index value, the reading is what is missing first.
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryReadingMissing")
        .withArgs(d.meters.alice.address, d.t0, deadline);
      await d.report(d.meters.alice, d.t0, WH);
      await time.setNextBlockTimestamp(deadline - 1n);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.be.revertedWithCustomError(d.forwards, "ScheduledDeliveryIndexMissing")
        .withArgs(INDEX, d.t0, deadline);
      expect(await d.forwards.intervalState(d.id, d.t0)).to.equal(1n);
      await time.setNextBlockTimestamp(deadline);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(d.id, d.t0, WH, PRICE, PRICE, 0n);
      // A value posted afterwards changes nothing for the settled interval.
      await d.oracle.connect(d.matcher).post(INDEX, d.t0, 80n);
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(PRICE);
    });
    it("ignores an index value posted after the deadline, whenever the interval is settled", async function () {
      const d = await networkHelpers.loadFixture(indexed);
      const deadline = deadlineOf(d.t0);
      await clock.to(clock.end(d.t0));
      await d.report(d.meters.alice, d.t0, WH);
      await time.setNextBlockTimestamp(deadline + 1n);
      await d.oracle.connect(d.matcher).post(INDEX, d.t0, 80n); // would be the cap, 200 000
      const [posted, , postedAt] = await d.oracle.valueAt(INDEX, d.t0);
      expect([posted, postedAt]).to.deep.equal([true, deadline + 1n]);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(d.id, d.t0, WH, PRICE, PRICE, 0n);
    });
  });

  describe("sharing a meter with the spot market", function () {
    it("splits a shortfall pro rata between a forward and a spot sale of the same interval", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      await d.forwards.commitDeliveries([d.id], d.t0);
      // alice also sells 3000 Wh of t0 on the spot market to carol at 0.15/kWh.
      await d.market.connect(d.alice).placeOffer(d.meters.alice.address, d.t0, 3000n, 100_000n); // order 1
      await d.market.connect(d.carol).placeBid(d.meters.carol.address, d.t0, 3000n, 200_000n); // order 2
      const fills = [{ offerId: 1n, bidId: 2n, wh: 3000n }];
      await clock.to(clock.gateClosure(d.t0));
      await d.market.connect(d.matcher).submitClearing(d.t0, 150_000n, fills, true);
      const [, , , obligation] = await d.ledger.delivery(d.meters.alice.address, d.t0);
      expect(obligation).to.equal(4000n);

      // alice exports half of what she owes in all: each product gets half of its volume.
      await clock.to(clock.end(d.t0));
      await d.report(d.meters.alice, d.t0, 2000n);
      await expect(d.forwards.settleDeliveries(d.id, [d.t0]))
        .to.emit(d.forwards, "DeliverySettled")
        .withArgs(d.id, d.t0, 500n, PRICE, 75_000n, 25_000n);
      await expect(d.market.settleBatch(d.t0, 0, fills))
        .to.emit(d.market, "FillSettled")
        .withArgs(d.t0, 1n, 2n, 1500n, 225_000n, 75_000n);
      // 500 + 1500 Wh: the 2000 Wh exported are counted once.
      expect(await d.forwards.balanceOf(d.alice.address)).to.equal(75_000n);
      expect(await d.forwards.balanceOf(d.bob.address)).to.equal(25_000n);
    });
  });

  describe("pausing", function () {
    it("stops proposing, accepting, committing and settling, but not cancelling or withdrawing", async function () {
      const d = await networkHelpers.loadFixture(accepted);
      const f = d.forwards;
      await f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress); // 2
      await f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress); // 3
      await f.connect(d.alice).cancelProposal(3n);
      await expect(f.connect(d.alice).pause())
        .to.be.revertedWithCustomError(f, "AccessControlUnauthorizedAccount")
        .withArgs(d.alice.address, ZeroHash);
      await f.connect(d.admin).pause();

      await expect(
        f.connect(d.alice).propose(standardTerms(d), true, d.meters.alice.address, ZeroAddress),
      ).to.be.revertedWithCustomError(f, "EnforcedPause");
      await expect(f.connect(d.carol).accept(2n, d.meters.carol.address)).to.be.revertedWithCustomError(
        f,
        "EnforcedPause",
      );
      await expect(f.commitDeliveries([d.id], d.t0)).to.be.revertedWithCustomError(f, "EnforcedPause");
      await expect(f.settleDeliveries(d.id, [d.t0])).to.be.revertedWithCustomError(f, "EnforcedPause");

      await expect(f.connect(d.alice).withdraw(d.alice.address, SELLER_MARGIN))
        .to.emit(f, "Withdrawn")
        .withArgs(d.alice.address, d.alice.address, SELLER_MARGIN);
      await f.connect(d.alice).cancelProposal(2n);
      expect(await f.balanceOf(d.alice.address)).to.equal(SELLER_MARGIN);

      await f.connect(d.admin).unpause();
      await expect(f.commitDeliveries([d.id], d.t0))
        .to.emit(f, "DeliveryCommitted")
        .withArgs(d.id, d.t0, WH);
    });
  });
});
