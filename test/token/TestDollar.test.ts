import { expect } from "chai";
import { network } from "hardhat";

import GridMeshModule from "../../ignition/modules/GridMesh.js";

const { ethers, ignition, networkHelpers } = await network.create();

const usd = (n: bigint) => n * 10n ** 6n;

describe("TestDollar", function () {
  async function deployFixture() {
    const [admin, alice, bob] = await ethers.getSigners();
    if (!admin || !alice || !bob) throw new Error("Hardhat network must provide three signers");
    const token = await ethers.deployContract("TestDollar", [admin.address, usd(100n), usd(150n)]);
    return { token, admin, alice, bob };
  }

  describe("claim", function () {
    it("mints to the caller and emits FaucetClaimed for today", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployFixture);
      const day = BigInt(await networkHelpers.time.latest()) / 86_400n;

      await expect(token.connect(alice).claim(usd(40n)))
        .to.emit(token, "FaucetClaimed")
        .withArgs(alice.address, day, usd(40n));

      expect(await token.balanceOf(alice.address)).to.equal(usd(40n));
      expect(await token.claimable(alice.address)).to.equal(usd(60n));
    });

    it("refuses a claim past the account's daily limit and mints nothing", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployFixture);
      await token.connect(alice).claim(usd(100n));
      const day = await token.currentDay();

      await expect(token.connect(alice).claim(1n))
        .to.be.revertedWithCustomError(token, "TestDollarAccountLimitExceeded")
        .withArgs(alice.address, day, 1n, 0n);
      expect(await token.totalSupply()).to.equal(usd(100n));
    });

    it("refuses a claim past the faucet's daily cap", async function () {
      const { token, alice, bob } = await networkHelpers.loadFixture(deployFixture);
      await token.connect(alice).claim(usd(100n));

      await expect(token.connect(bob).claim(usd(60n)))
        .to.be.revertedWithCustomError(token, "TestDollarDailyCapExceeded")
        .withArgs(await token.currentDay(), usd(60n), usd(50n));
      expect(await token.claimable(bob.address)).to.equal(usd(50n));
    });

    it("renews the allowance at the next UTC day", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployFixture);
      await token.connect(alice).claim(usd(100n));
      const tomorrow = ((await token.currentDay()) + 1n) * 86_400n;
      await networkHelpers.time.increaseTo(tomorrow);

      expect(await token.claimable(alice.address)).to.equal(usd(100n));
      await token.connect(alice).claim(usd(100n));
      expect(await token.balanceOf(alice.address)).to.equal(usd(200n));
    });

    it("refuses a zero claim", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployFixture);
      await expect(token.connect(alice).claim(0n)).to.be.revertedWithCustomError(
        token,
        "TestDollarZeroAmount",
      );
    });
  });

  describe("setLimits", function () {
    it("lets the admin change the limits", async function () {
      const { token, admin } = await networkHelpers.loadFixture(deployFixture);
      await expect(token.connect(admin).setLimits(usd(5n), usd(7n)))
        .to.emit(token, "FaucetLimitsChanged")
        .withArgs(usd(5n), usd(7n));
      expect(await token.limits()).to.deep.equal([usd(5n), usd(7n)]);
    });

    it("refuses anyone else", async function () {
      const { token, alice } = await networkHelpers.loadFixture(deployFixture);
      await expect(token.connect(alice).setLimits(usd(1_000n), usd(1_000n)))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await token.DEFAULT_ADMIN_ROLE());
    });
  });

  describe("GridMesh Ignition module", function () {
    it("deploys the token with the deployer as admin and the default faucet limits", async function () {
      const [deployer] = await ethers.getSigners();
      const deployed = await ignition.deploy(GridMeshModule);
      // Ignition returns untyped contracts; re-attach with the TypeChain type.
      const testDollar = await ethers.getContractAt("TestDollar", await deployed.testDollar.getAddress());

      expect(await testDollar.decimals()).to.equal(6n);
      expect(await testDollar.hasRole(await testDollar.DEFAULT_ADMIN_ROLE(), deployer!.address)).to.equal(
        true,
      );
      expect(await testDollar.limits()).to.deep.equal([usd(10_000n), usd(1_000_000n)]);
    });
  });
});
