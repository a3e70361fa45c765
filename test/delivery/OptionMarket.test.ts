import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";

import {
  type Delivery,
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
import { PENALTY_PER_KWH, intervalClock } from "../helpers/gridmesh.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;
const clock = intervalClock(networkHelpers);

type OptionTerms = {
  firstInterval: bigint;
  lastInterval: bigint;
  whPerInterval: bigint;
  strikePerKwh: bigint;
  premium: bigint;
  exerciseDeadline: bigint;
};

const PREMIUM = 20_000n;
const COLLATERAL = lockFor(WINDOW * WH, PENALTY_PER_KWH); // 200_000
const ESCROW = lockFor(WINDOW * WH, PRICE); // 600_000

/** The standard option: WH per interval over WINDOW intervals from t0 at strike PRICE. */
const standardTerms = (d: Delivery): OptionTerms => ({
  firstInterval: d.t0,
  lastInterval: d.t0 + WINDOW - 1n,
  whPerInterval: WH,
  strikePerKwh: PRICE,
  premium: PREMIUM,
  exerciseDeadline: clock.gateClosure(d.t0) - 20n,
});
const termsTuple = (t: OptionTerms) => [
  t.firstInterval,
  t.lastInterval,
  t.whPerInterval,
  t.strikePerKwh,
  t.premium,
  t.exerciseDeadline,
];

async function deployed() {
  return deployDelivery(connection);
}

/** Option 1: alice writes the standard terms on her meter. */
async function written() {
  const d = await deployed();
  const terms = standardTerms(d);
  await d.options.connect(d.alice).write(terms, d.meters.alice.address);
  return { ...d, terms, id: 1n, deadline: terms.exerciseDeadline };
}

/** Option 1, bought by bob. */
async function bought() {
  const d = await written();
  await d.options.connect(d.bob).buy(d.id);
  return d;
}

/** Option 1, exercised by bob with his meter. */
async function exercised() {
  const d = await bought();
  await d.options.connect(d.bob).exercise(d.id, d.meters.bob.address);
  return d;
}

/** The option market holds exactly what its balances and unreleased margins add up to. */
async function expectConserved(d: Delivery, ids: bigint[]) {
  const held = await d.token.balanceOf(await d.options.getAddress());
  expect(held).to.equal((await balances(d, d.options)) + (await unreleased(d.options, ids)));
  return held;
}

describe("OptionMarket", function () {
  describe("writing", function () {
    it("locks the penalty collateral on the whole volume", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const terms = standardTerms(d);
      const tx = d.options.connect(d.alice).write(terms, d.meters.alice.address);
      await expect(tx)
        .to.emit(d.options, "OptionWritten")
        .withArgs(
          1n,
          d.alice.address,
          d.meters.alice.address,
          termsTuple(terms),
          PENALTY_PER_KWH,
          COLLATERAL,
        );
      await expect(tx).to.changeTokenBalances(
        ethers,
        d.token,
        [d.alice, d.options],
        [-COLLATERAL, COLLATERAL],
      );
      const s = await d.options.getSchedule(1n);
      expect([s.status, s.seller, s.sellerMeter, s.sellerMargin, s.buyer, s.buyerMargin]).to.deep.equal([
        Status.Proposed,
        d.alice.address,
        d.meters.alice.address,
        COLLATERAL,
        ZeroAddress,
        0n,
      ]);
      expect([s.firstInterval, s.lastInterval, s.whPerInterval, s.penaltyPerKwh]).to.deep.equal([
        d.t0,
        d.t0 + WINDOW - 1n,
        WH,
        PENALTY_PER_KWH,
      ]);
      // The strike is a fixed price.
      expect(s.pricing).to.deep.equal(pricingTuple(fixedPrice(PRICE)));
      expect(await d.options.getOption(1n)).to.deep.equal([PREMIUM, terms.exerciseDeadline, ZeroAddress]);
      expect(await d.options.nextId()).to.equal(2n);
      await expectConserved(d, [1n]);
    });

    it("rounds the collateral up and uses the penalty current when written", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      await d.options.connect(d.admin).setPenaltyPerKwh(1_001n);
      // 3 × 333 Wh at 1.001 per Wh = 999.999 → 1000.
      const terms = { ...standardTerms(d), lastInterval: d.t0 + 2n, whPerInterval: 333n };
      await expect(d.options.connect(d.alice).write(terms, d.meters.alice.address))
        .to.emit(d.options, "OptionWritten")
        .withArgs(1n, d.alice.address, d.meters.alice.address, termsTuple(terms), 1_001n, 1_000n);
      expect((await d.options.getSchedule(1n)).penaltyPerKwh).to.equal(1_001n);
    });

    it("refuses no volume, no strike, an inverted window and one longer than MAX_WINDOW_INTERVALS", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const max = await d.options.MAX_WINDOW_INTERVALS();
      expect(max).to.equal(2_976n);
      const base = { ...standardTerms(d), whPerInterval: 1n };
      const o = d.options.connect(d.alice);
      const meter = d.meters.alice.address;
      const cases: OptionTerms[] = [
        { ...base, whPerInterval: 0n },
        { ...base, strikePerKwh: 0n },
        { ...base, lastInterval: d.t0 - 1n },
        { ...base, lastInterval: d.t0 + max },
      ];
      for (const terms of cases) {
        await expect(o.write(terms, meter))
          .to.be.revertedWithCustomError(d.options, "OptionMarketInvalidTerms")
          .withArgs(terms.firstInterval, terms.lastInterval, terms.whPerInterval, terms.strikePerKwh);
      }
      expect(await d.options.nextId()).to.equal(1n);
      expect(await d.token.balanceOf(await d.options.getAddress())).to.equal(0n);
      await o.write({ ...base, lastInterval: d.t0 + max - 1n }, meter);
      expect((await d.options.getSchedule(1n)).sellerMargin).to.equal(lockFor(max, PENALTY_PER_KWH));
    });

    it("refuses an exercise deadline already past or after the window's first gate closure", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const gate = clock.gateClosure(d.t0);
      const o = d.options.connect(d.alice);
      const meter = d.meters.alice.address;
      const late = { ...standardTerms(d), exerciseDeadline: gate + 1n };
      await expect(o.write(late, meter))
        .to.be.revertedWithCustomError(d.options, "OptionMarketInvalidDeadline")
        .withArgs(gate + 1n, gate);
      const now = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(now);
      await expect(o.write({ ...standardTerms(d), exerciseDeadline: now }, meter))
        .to.be.revertedWithCustomError(d.options, "OptionMarketInvalidDeadline")
        .withArgs(now, gate);
      expect(await d.options.nextId()).to.equal(1n);

      // A deadline one second ahead, or exactly at the first gate closure, is fine.
      const soon = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(soon - 1n);
      await o.write({ ...standardTerms(d), exerciseDeadline: soon }, meter);
      await o.write({ ...standardTerms(d), exerciseDeadline: gate }, meter);

      // Once the first gate has closed, every admissible deadline is past.
      await clock.to(gate);
      await expect(o.write({ ...standardTerms(d), exerciseDeadline: gate }, meter))
        .to.be.revertedWithCustomError(d.options, "OptionMarketInvalidDeadline")
        .withArgs(gate, gate);
      expect(await d.options.nextId()).to.equal(3n);
    });

    it("refuses a meter the writer does not own, or an inactive one", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      const terms = standardTerms(d);
      await expect(d.options.connect(d.bob).write(terms, d.meters.alice.address))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryNotMeterOwner")
        .withArgs(d.bob.address, d.meters.alice.address);
      const { meter: pending } = await d.enrollMeter(d.bob);
      await expect(d.options.connect(d.bob).write(terms, pending.address))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryMeterInactive")
        .withArgs(pending.address);
      await d.registry.connect(d.alice).deactivate(d.meters.alice.address);
      await expect(d.options.connect(d.alice).write(terms, d.meters.alice.address))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryMeterInactive")
        .withArgs(d.meters.alice.address);
      expect(await d.options.nextId()).to.equal(1n);
    });
  });

  describe("buying", function () {
    it("credits the premium to the writer's balance at once", async function () {
      const d = await networkHelpers.loadFixture(written);
      const tx = d.options.connect(d.bob).buy(d.id);
      await expect(tx).to.emit(d.options, "OptionBought").withArgs(d.id, d.bob.address, PREMIUM);
      await expect(tx).to.changeTokenBalances(ethers, d.token, [d.bob, d.options], [-PREMIUM, PREMIUM]);
      expect(await d.options.balanceOf(d.alice.address)).to.equal(PREMIUM);
      expect((await d.options.getOption(d.id)).holder).to.equal(d.bob.address);
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Proposed);
      await expectConserved(d, [d.id]);
      await expect(d.options.connect(d.alice).withdraw(d.alice.address, PREMIUM)).to.changeTokenBalances(
        ethers,
        d.token,
        [d.alice, d.options],
        [PREMIUM, -PREMIUM],
      );
      expect(await d.token.balanceOf(await d.options.getAddress())).to.equal(COLLATERAL);
    });

    it("refuses a second purchase and the writer's own", async function () {
      const d = await networkHelpers.loadFixture(written);
      await expect(d.options.connect(d.alice).buy(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketSelfPurchase")
        .withArgs(d.id);
      await d.options.connect(d.bob).buy(d.id);
      for (const who of [d.carol, d.bob]) {
        await expect(d.options.connect(who).buy(d.id))
          .to.be.revertedWithCustomError(d.options, "OptionMarketAlreadySold")
          .withArgs(d.id, d.bob.address);
      }
      expect(await d.options.balanceOf(d.alice.address)).to.equal(PREMIUM);
      await expect(d.options.connect(d.bob).buy(9n))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(9n);
    });

    it("sells until the exercise deadline, not from then on", async function () {
      const d = await networkHelpers.loadFixture(written);
      await time.setNextBlockTimestamp(d.deadline);
      await expect(d.options.connect(d.bob).buy(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketExerciseClosed")
        .withArgs(d.id, d.deadline);
      expect((await d.options.getOption(d.id)).holder).to.equal(ZeroAddress);
      expect(await d.options.balanceOf(d.alice.address)).to.equal(0n);
    });

    it("sells an option with no premium without moving tokens", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      await d.options.connect(d.alice).write({ ...standardTerms(d), premium: 0n }, d.meters.alice.address);
      const tx = d.options.connect(d.bob).buy(1n);
      await expect(tx).to.emit(d.options, "OptionBought").withArgs(1n, d.bob.address, 0n);
      await expect(tx).to.changeTokenBalances(ethers, d.token, [d.bob, d.options], [0n, 0n]);
    });
  });

  describe("exercising", function () {
    it("escrows the strike cost of the whole volume and activates the delivery", async function () {
      const d = await networkHelpers.loadFixture(bought);
      const tx = d.options.connect(d.bob).exercise(d.id, d.meters.bob.address);
      await expect(tx)
        .to.emit(d.options, "OptionExercised")
        .withArgs(d.id, d.bob.address, d.meters.bob.address, ESCROW);
      await expect(tx).to.changeTokenBalances(ethers, d.token, [d.bob, d.options], [-ESCROW, ESCROW]);
      const s = await d.options.getSchedule(d.id);
      expect([s.status, s.buyer, s.buyerMeter, s.buyerMargin, s.seller]).to.deep.equal([
        Status.Active,
        d.bob.address,
        d.meters.bob.address,
        ESCROW,
        d.alice.address,
      ]);
      expect(await expectConserved(d, [d.id])).to.equal(COLLATERAL + PREMIUM + ESCROW);
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
    });

    it("rounds the escrow up", async function () {
      const d = await networkHelpers.loadFixture(deployed);
      // 3 × 1 Wh at 150.001 per Wh = 450.003 → 451.
      const terms = {
        ...standardTerms(d),
        lastInterval: d.t0 + 2n,
        whPerInterval: 1n,
        strikePerKwh: 150_001n,
      };
      await d.options.connect(d.alice).write(terms, d.meters.alice.address);
      await d.options.connect(d.bob).buy(1n);
      await expect(d.options.connect(d.bob).exercise(1n, d.meters.bob.address))
        .to.emit(d.options, "OptionExercised")
        .withArgs(1n, d.bob.address, d.meters.bob.address, 451n);
    });

    it("lets only the holder exercise", async function () {
      const d = await networkHelpers.loadFixture(written);
      // Unsold: nobody holds it.
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotHolder")
        .withArgs(d.id, d.bob.address);
      await d.options.connect(d.bob).buy(d.id);
      for (const who of [d.carol, d.alice]) {
        await expect(d.options.connect(who).exercise(d.id, d.meters.carol.address))
          .to.be.revertedWithCustomError(d.options, "OptionMarketNotHolder")
          .withArgs(d.id, who.address);
      }
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Proposed);
    });

    it("refuses a meter the holder does not own or an inactive one", async function () {
      const d = await networkHelpers.loadFixture(bought);
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.alice.address))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryNotMeterOwner")
        .withArgs(d.bob.address, d.meters.alice.address);
      await d.registry.connect(d.bob).deactivate(d.meters.bob.address);
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryMeterInactive")
        .withArgs(d.meters.bob.address);
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Proposed);
    });

    it("exercises until the deadline, not from then on", async function () {
      const d = await networkHelpers.loadFixture(bought);
      await time.setNextBlockTimestamp(d.deadline);
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.options, "OptionMarketExerciseClosed")
        .withArgs(d.id, d.deadline);
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Proposed);
    });

    it("exercises one second before the deadline", async function () {
      const d = await networkHelpers.loadFixture(bought);
      await time.setNextBlockTimestamp(d.deadline - 1n);
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.bob.address)).to.emit(
        d.options,
        "OptionExercised",
      );
    });
  });

  describe("delivering an exercised option", function () {
    it("settles like a forward at the strike, then releases the rest and records reputation", async function () {
      const d = await networkHelpers.loadFixture(exercised);
      const o = d.options;
      // t0 … t0 + 2 committed; t0 + 3 left void.
      for (const t of [d.t0, d.t0 + 1n, d.t0 + 2n]) await o.connect(d.eve).commitDeliveries([d.id], t);
      await expect(o.commitDeliveries([d.id], d.t0))
        .to.be.revertedWithCustomError(o, "ScheduledDeliveryAlreadyCommitted")
        .withArgs(d.id, d.t0);
      const [, , , obligation] = await d.ledger.delivery(d.meters.alice.address, d.t0);
      expect(obligation).to.equal(WH);

      for (const [t, wh] of [
        [d.t0, WH],
        [d.t0 + 1n, WH],
        [d.t0 + 2n, WH / 2n],
      ] as const) {
        await clock.to(clock.end(t));
        await d.report(d.meters.alice, t, wh);
      }
      await clock.to(clock.end(d.t0 + 3n));
      const first = o.settleDeliveries(d.id, [d.t0, d.t0 + 1n]);
      await expect(first).to.emit(o, "DeliverySettled").withArgs(d.id, d.t0, WH, PRICE, 150_000n, 0n);
      await expect(first)
        .to.emit(o, "DeliverySettled")
        .withArgs(d.id, d.t0 + 1n, WH, PRICE, 150_000n, 0n);
      await expectConserved(d, [d.id]);

      const paid = 150_000n + 150_000n + 75_000n;
      const sellerReleased = COLLATERAL - 25_000n;
      const buyerReleased = ESCROW - paid;
      const last = o.settleDeliveries(d.id, [d.t0 + 3n, d.t0 + 2n]);
      await expect(last)
        .to.emit(o, "DeliveryVoided")
        .withArgs(d.id, d.t0 + 3n);
      await expect(last)
        .to.emit(o, "DeliverySettled")
        .withArgs(d.id, d.t0 + 2n, WH / 2n, PRICE, 75_000n, 25_000n);
      await expect(last).to.emit(o, "ScheduleCompleted").withArgs(d.id, sellerReleased, buyerReleased);
      await expect(last).to.emit(d.reputation, "ReputationUpdated").withArgs(d.alice.address, 1n, 0n, 1n);
      await expect(last).to.emit(d.reputation, "ReputationUpdated").withArgs(d.bob.address, 1n, 0n, 0n);
      expect((await o.getSchedule(d.id)).status).to.equal(Status.Closed);

      const alice = PREMIUM + paid + sellerReleased;
      const bob = 25_000n + buyerReleased;
      expect([await o.balanceOf(d.alice.address), await o.balanceOf(d.bob.address)]).to.deep.equal([
        alice,
        bob,
      ]);
      expect(await expectConserved(d, [d.id])).to.equal(COLLATERAL + PREMIUM + ESCROW);
      expect(alice + bob).to.equal(COLLATERAL + PREMIUM + ESCROW);
      await o.connect(d.alice).withdraw(d.alice.address, alice);
      await o.connect(d.bob).withdraw(d.bob.address, bob);
      expect(await d.token.balanceOf(await o.getAddress())).to.equal(0n);
      await expect(o.connect(d.eve).expire(d.id))
        .to.be.revertedWithCustomError(o, "OptionMarketNotOpen")
        .withArgs(d.id);
    });

    it("refuses commitments and settlements of an option not exercised", async function () {
      const d = await networkHelpers.loadFixture(bought);
      await expect(d.options.commitDeliveries([d.id], d.t0))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryNotActive")
        .withArgs(d.id);
      await clock.to(clock.end(d.t0));
      await expect(d.options.settleDeliveries(d.id, [d.t0]))
        .to.be.revertedWithCustomError(d.options, "ScheduledDeliveryNotActive")
        .withArgs(d.id);
    });
  });

  describe("expiring", function () {
    it("returns an unsold option's collateral to the writer once the deadline has passed", async function () {
      const d = await networkHelpers.loadFixture(written);
      await time.setNextBlockTimestamp(d.deadline - 1n);
      await expect(d.options.connect(d.eve).expire(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotExpired")
        .withArgs(d.id, d.deadline);
      await time.setNextBlockTimestamp(d.deadline);
      const tx = d.options.connect(d.eve).expire(d.id);
      await expect(tx).to.emit(d.options, "OptionExpired").withArgs(d.id, false);
      await expect(tx).to.emit(d.options, "ScheduleCompleted").withArgs(d.id, COLLATERAL, 0n);
      await expect(tx).not.to.emit(d.reputation, "ReputationUpdated");
      expect(await d.options.balanceOf(d.alice.address)).to.equal(COLLATERAL);
      expect(await d.options.balanceOf(d.eve.address)).to.equal(0n);
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Closed);
      await expectConserved(d, [d.id]);
      await expect(d.options.connect(d.eve).expire(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
    });

    it("lets the writer keep the premium of a sold option never exercised", async function () {
      const d = await networkHelpers.loadFixture(bought);
      await clock.to(d.deadline);
      const tx = d.options.connect(d.eve).expire(d.id);
      await expect(tx).to.emit(d.options, "OptionExpired").withArgs(d.id, true);
      await expect(tx).to.emit(d.options, "ScheduleCompleted").withArgs(d.id, COLLATERAL, 0n);
      expect(await d.options.balanceOf(d.alice.address)).to.equal(PREMIUM + COLLATERAL);
      expect(await d.options.balanceOf(d.bob.address)).to.equal(0n);
      expect(await expectConserved(d, [d.id])).to.equal(PREMIUM + COLLATERAL);
      await expect(d.options.connect(d.bob).exercise(d.id, d.meters.bob.address))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
    });

    it("refuses to expire an exercised option", async function () {
      const d = await networkHelpers.loadFixture(exercised);
      await clock.to(d.deadline + 1n);
      await expect(d.options.connect(d.eve).expire(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Active);
    });
  });

  describe("cancelling", function () {
    it("lets the writer withdraw an unsold option, collateral credited back", async function () {
      const d = await networkHelpers.loadFixture(written);
      await expect(d.options.connect(d.bob).cancel(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotWriter")
        .withArgs(d.id, d.bob.address);
      const tx = d.options.connect(d.alice).cancel(d.id);
      await expect(tx).to.emit(d.options, "OptionCancelled").withArgs(d.id);
      await expect(tx).to.emit(d.options, "ScheduleCompleted").withArgs(d.id, COLLATERAL, 0n);
      expect(await d.options.balanceOf(d.alice.address)).to.equal(COLLATERAL);
      expect((await d.options.getSchedule(d.id)).status).to.equal(Status.Closed);
      await expect(d.options.connect(d.bob).buy(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
      await expect(d.options.connect(d.alice).cancel(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
    });

    it("refuses to cancel a sold option or an exercised one", async function () {
      const d = await networkHelpers.loadFixture(bought);
      await expect(d.options.connect(d.alice).cancel(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketAlreadySold")
        .withArgs(d.id, d.bob.address);
      await d.options.connect(d.bob).exercise(d.id, d.meters.bob.address);
      await expect(d.options.connect(d.alice).cancel(d.id))
        .to.be.revertedWithCustomError(d.options, "OptionMarketNotOpen")
        .withArgs(d.id);
      expect(await d.options.balanceOf(d.alice.address)).to.equal(PREMIUM);
    });
  });

  describe("pausing", function () {
    it("stops writing, buying, exercising and delivering, but not withdrawals, cancels or expiry", async function () {
      const d = await networkHelpers.loadFixture(bought);
      const o = d.options;
      await o.connect(d.alice).write(standardTerms(d), d.meters.alice.address); // 2, unsold
      await expect(o.connect(d.bob).pause())
        .to.be.revertedWithCustomError(o, "AccessControlUnauthorizedAccount")
        .withArgs(d.bob.address, ZeroHash);
      await o.connect(d.admin).pause();

      await expect(
        o.connect(d.alice).write(standardTerms(d), d.meters.alice.address),
      ).to.be.revertedWithCustomError(o, "EnforcedPause");
      await expect(o.connect(d.carol).buy(2n)).to.be.revertedWithCustomError(o, "EnforcedPause");
      await expect(o.connect(d.bob).exercise(d.id, d.meters.bob.address)).to.be.revertedWithCustomError(
        o,
        "EnforcedPause",
      );
      await expect(o.commitDeliveries([d.id], d.t0)).to.be.revertedWithCustomError(o, "EnforcedPause");
      await expect(o.settleDeliveries(d.id, [d.t0])).to.be.revertedWithCustomError(o, "EnforcedPause");

      await expect(o.connect(d.alice).withdraw(d.alice.address, PREMIUM)).to.changeTokenBalances(
        ethers,
        d.token,
        [d.alice, o],
        [PREMIUM, -PREMIUM],
      );
      await expect(o.connect(d.alice).cancel(2n)).to.emit(o, "OptionCancelled").withArgs(2n);
      await clock.to(d.deadline);
      await expect(o.connect(d.eve).expire(d.id)).to.emit(o, "OptionExpired").withArgs(d.id, true);
      expect(await o.balanceOf(d.alice.address)).to.equal(2n * COLLATERAL);
      await expectConserved(d, [d.id, 2n]);

      await o.connect(d.admin).unpause();
      await expect(
        o.connect(d.alice).write(
          {
            ...standardTerms(d),
            firstInterval: d.t0 + 5n,
            lastInterval: d.t0 + 6n,
            exerciseDeadline: clock.gateClosure(d.t0 + 5n),
          },
          d.meters.alice.address,
        ),
      ).to.emit(o, "OptionWritten");
    });
  });
});
