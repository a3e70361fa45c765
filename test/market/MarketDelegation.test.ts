import { expect } from "chai";
import { network } from "hardhat";

import { withBook } from "../helpers/book.js";
import { intervalClock } from "../helpers/gridmesh.js";

const connection = await network.create();
const { networkHelpers } = connection;
const clock = intervalClock(networkHelpers);

/** alice authorises eve (her meter agent) to sell ≤ 1000 Wh per interval at ≥ 0.12 and buy at ≤ 0.20. */
async function delegated() {
  const g = await withBook(connection);
  const expiry = BigInt(await networkHelpers.time.latest()) + 3_600n;
  await g.market.connect(g.alice).authorizeDelegate(g.eve.address, 1000n, 120_000n, 200_000n, expiry);
  return { ...g, expiry };
}

describe("EnergyMarket delegation", function () {
  it("lets a delegate place orders owned and paid for by the account", async function () {
    const g = await networkHelpers.loadFixture(delegated);
    const before = await g.token.balanceOf(g.alice.address);
    await expect(
      g.market.connect(g.eve).placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 600n, 130_000n),
    )
      .to.emit(g.market, "OfferPlaced")
      .withArgs(5n, g.alice.address, g.t, g.meters.alice.address, 600n, 130_000n, 50_000n, 30_000n);
    await g.market.connect(g.eve).placeBidFor(g.alice.address, g.meters.alice.address, g.t, 400n, 200_000n);
    expect((await g.market.getOrder(5n)).owner).to.equal(g.alice.address);
    expect(await g.token.balanceOf(g.alice.address)).to.equal(before - 30_000n - 80_000n);
    expect(await g.token.balanceOf(g.eve.address)).to.equal(0n);
    expect(await g.market.delegatedWh(g.alice.address, g.eve.address, g.t)).to.equal(1000n);
  });

  it("keeps the delegate within the volume and price limits", async function () {
    const g = await networkHelpers.loadFixture(delegated);
    const m = g.market.connect(g.eve);
    await m.placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 700n, 130_000n);
    await expect(m.placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 301n, 130_000n))
      .to.be.revertedWithCustomError(g.market, "MarketDelegationVolumeExceeded")
      .withArgs(g.alice.address, g.eve.address, g.t, 301n, 300n);
    // The limit is per interval: the next one starts afresh.
    await m.placeOfferFor(g.alice.address, g.meters.alice.address, g.t + 1n, 1000n, 130_000n);
    await expect(m.placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 10n, 119_999n))
      .to.be.revertedWithCustomError(g.market, "MarketDelegationSellPriceTooLow")
      .withArgs(g.alice.address, 119_999n, 120_000n);
    await expect(m.placeBidFor(g.alice.address, g.meters.alice.address, g.t, 10n, 200_001n))
      .to.be.revertedWithCustomError(g.market, "MarketDelegationBuyPriceTooHigh")
      .withArgs(g.alice.address, 200_001n, 200_000n);
  });

  it("does not give volume back on cancel, so churning cannot exceed the limit", async function () {
    const g = await networkHelpers.loadFixture(delegated);
    const m = g.market.connect(g.eve);
    await m.placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 1000n, 130_000n);
    await m.cancelOrder(5n);
    expect((await g.market.getOrder(5n)).closed).to.equal(true);
    await expect(
      m.placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 1n, 130_000n),
    ).to.be.revertedWithCustomError(g.market, "MarketDelegationVolumeExceeded");
  });

  it("refuses strangers, revoked and expired delegates", async function () {
    const g = await networkHelpers.loadFixture(delegated);
    await expect(
      g.market.connect(g.bob).placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 1n, 130_000n),
    )
      .to.be.revertedWithCustomError(g.market, "MarketDelegationNotAuthorized")
      .withArgs(g.alice.address, g.bob.address);
    await expect(g.market.connect(g.eve).cancelOrder(g.ids.bobOffer))
      .to.be.revertedWithCustomError(g.market, "EnergyMarketNotOrderOwner")
      .withArgs(g.eve.address, g.ids.bobOffer);

    await clock.to(g.expiry);
    await expect(
      g.market
        .connect(g.eve)
        .placeOfferFor(g.alice.address, g.meters.alice.address, g.t + 100n, 1n, 130_000n),
    )
      .to.be.revertedWithCustomError(g.market, "MarketDelegationExpired")
      .withArgs(g.alice.address, g.eve.address, g.expiry);
    await expect(g.market.connect(g.eve).cancelOrder(g.ids.aliceOffer)).to.be.revertedWithCustomError(
      g.market,
      "MarketDelegationExpired",
    );
  });

  it("revokes at once and only what exists", async function () {
    const g = await networkHelpers.loadFixture(delegated);
    await expect(g.market.connect(g.alice).revokeDelegate(g.eve.address))
      .to.emit(g.market, "DelegateRevoked")
      .withArgs(g.alice.address, g.eve.address);
    await expect(
      g.market.connect(g.eve).placeOfferFor(g.alice.address, g.meters.alice.address, g.t, 1n, 130_000n),
    ).to.be.revertedWithCustomError(g.market, "MarketDelegationNotAuthorized");
    await expect(g.market.connect(g.alice).revokeDelegate(g.eve.address))
      .to.be.revertedWithCustomError(g.market, "MarketDelegationNotAuthorized")
      .withArgs(g.alice.address, g.eve.address);
  });

  it("refuses a delegation to nobody, to oneself or already expired", async function () {
    const g = await networkHelpers.loadFixture(delegated);
    const now = BigInt(await networkHelpers.time.latest());
    const m = g.market.connect(g.alice);
    await expect(m.authorizeDelegate(g.alice.address, 1n, 0n, 1n, now + 100n))
      .to.be.revertedWithCustomError(g.market, "MarketDelegationInvalid")
      .withArgs(g.alice.address, now + 100n);
    await expect(
      m.authorizeDelegate(connection.ethers.ZeroAddress, 1n, 0n, 1n, now + 100n),
    ).to.be.revertedWithCustomError(g.market, "MarketDelegationInvalid");
    await expect(m.authorizeDelegate(g.bob.address, 1n, 0n, 1n, now)).to.be.revertedWithCustomError(
      g.market,
      "MarketDelegationInvalid",
    );
  });
});
