import { deliveryLedgerDomain, type MeterReading, meterReadingTypes } from "@gridmesh/contracts";
import { expect } from "chai";
import { type BaseWallet, type TypedDataField, Wallet } from "ethers";
import { network } from "hardhat";

import {
  INTERVAL_SECONDS,
  SETTLEMENT_DELAY_SECONDS,
  deployGridMesh,
  intervalClock,
} from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();

/** ethers wants mutable field arrays; the shared definitions are deeply readonly. */
const fields = (types: Record<string, readonly { name: string; type: string }[]>) =>
  types as unknown as Record<string, TypedDataField[]>;

const MAX_CLOCK_SKEW = 300n;
/** How long before the start of the fixture's first interval `t0` alice's meter is activated. */
const ACTIVATION_LEAD = 50n;

describe("DeliveryLedger", function () {
  async function deployFixture() {
    const gm = await deployGridMesh(ethers);
    const clock = intervalClock(networkHelpers);
    /**
     * An interval that has not started yet: every test moves the clock past the ones it reads. The
     * meter is activated ACTIVATION_LEAD seconds before it starts, so `t0` is the first interval the
     * meter was active over in full, the one it is expected to report first.
     */
    const t0 = await clock.openInterval(2n);
    const { meter, deviceId } = await gm.enrollMeter(gm.alice);
    await networkHelpers.time.setNextBlockTimestamp(clock.start(t0) - ACTIVATION_LEAD);
    await activate(meter.address, deviceId, "verdict-alice-1");

    /** Activates (or reactivates) `address` with attestations of a new verdict named `verdict`. */
    async function activate(address: string, device: string, verdict: string) {
      const verdictTxId = ethers.id(verdict);
      await gm.registry.activate(address, verdictTxId, await gm.attest(address, device, verdictTxId));
    }

    /** When the gap left by skipping `missing` becomes final: its settlement deadline. */
    const deadline = (missing: bigint) => clock.end(missing) + SETTLEMENT_DELAY_SECONDS;

    /** A reading of `interval` by `meter`, taken at the interval's end, registers all at zero. */
    function reading(
      interval: bigint,
      overrides: Partial<MeterReading> = {},
      by: BaseWallet = meter,
    ): MeterReading {
      return {
        meter: by.address as `0x${string}`,
        interval,
        sequence: 1n,
        importStartWh: 0n,
        importEndWh: 0n,
        exportStartWh: 0n,
        exportEndWh: 0n,
        timestamp: clock.end(interval),
        ...overrides,
      };
    }

    /** What the ledger recovers from `signature` over `r` under its own domain. */
    function recoveredSigner(r: MeterReading, signature: string) {
      return ethers.verifyTypedData(gm.ledgerDomain, fields(meterReadingTypes), r, signature);
    }

    /** Signs `r` with its meter's key (or `by`) and relays it from eve. */
    async function record(r: MeterReading, by: BaseWallet = meter) {
      return gm.ledger.connect(gm.eve).recordReading(r, await gm.signReading(by, r));
    }

    return { ...gm, clock, meter, deviceId, t0, activate, deadline, reading, recoveredSigner, record };
  }

  /** The fixture with the ledger's OBLIGATION_ROLE granted to dave, standing in for a market. */
  async function obligationFixture() {
    const f = await deployFixture();
    await f.ledger.connect(f.admin).grantRole(await f.ledger.OBLIGATION_ROLE(), f.dave.address);
    return f;
  }

  describe("EIP-712 definitions", function () {
    it("hashes the TypeScript MeterReading definition to the contract's READING_TYPEHASH", async function () {
      const { ledger } = await networkHelpers.loadFixture(deployFixture);
      const encoded = ethers.TypedDataEncoder.from(fields(meterReadingTypes)).encodeType("MeterReading");

      expect(encoded).to.equal(
        "MeterReading(address meter,uint64 interval,uint64 sequence,uint64 importStartWh,uint64 importEndWh," +
          "uint64 exportStartWh,uint64 exportEndWh,uint64 timestamp)",
      );
      expect(await ledger.READING_TYPEHASH()).to.equal(ethers.id(encoded));
    });

    it("computes the same reading digest as ethers does with deliveryLedgerDomain", async function () {
      const { ledger, ledgerDomain, reading, t0 } = await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, {
        sequence: 7n,
        importStartWh: 1n,
        importEndWh: 2n,
        exportStartWh: 3n,
        exportEndWh: 5n,
      });

      expect(await ledger.readingDigest(r)).to.equal(
        ethers.TypedDataEncoder.hash(ledgerDomain, fields(meterReadingTypes), r),
      );
    });
  });

  describe("constructor", function () {
    it("sets the admin, registry, interval length and settlement delay", async function () {
      const { ledger, registry, admin } = await networkHelpers.loadFixture(deployFixture);

      expect(await ledger.registry()).to.equal(await registry.getAddress());
      expect(await ledger.intervalSeconds()).to.equal(INTERVAL_SECONDS);
      expect(await ledger.settlementDelaySeconds()).to.equal(SETTLEMENT_DELAY_SECONDS);
      expect(await ledger.MAX_CLOCK_SKEW()).to.equal(MAX_CLOCK_SKEW);
      expect(await ledger.hasRole(await ledger.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    });

    it("refuses a zero admin", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(
        factory.deploy(
          ethers.ZeroAddress,
          await registry.getAddress(),
          INTERVAL_SECONDS,
          SETTLEMENT_DELAY_SECONDS,
        ),
      ).to.be.revertedWithCustomError(factory, "DeliveryLedgerZeroAddress");
    });

    it("refuses a zero registry", async function () {
      const { admin } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(
        factory.deploy(admin.address, ethers.ZeroAddress, INTERVAL_SECONDS, SETTLEMENT_DELAY_SECONDS),
      ).to.be.revertedWithCustomError(factory, "DeliveryLedgerZeroAddress");
    });

    it("refuses a zero interval length", async function () {
      const { admin, registry } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(factory.deploy(admin.address, await registry.getAddress(), 0n, SETTLEMENT_DELAY_SECONDS))
        .to.be.revertedWithCustomError(factory, "DeliveryLedgerInvalidInterval")
        .withArgs(0n);
    });

    it("refuses a zero settlement delay, which would leave no window for readings", async function () {
      const { admin, registry } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(
        factory.deploy(admin.address, await registry.getAddress(), 60n, 0n),
      ).to.be.revertedWithCustomError(factory, "DeliveryLedgerInvalidSettlementDelay");
    });
  });

  describe("recordReading", function () {
    it("records a valid reading relayed by anyone", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, {
        sequence: 3n,
        importStartWh: 1_000n,
        importEndWh: 1_250n,
        exportStartWh: 40_000n,
        exportEndWh: 40_700n,
      });
      await clock.to(clock.end(t0));

      await expect(record(r))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 3n, 250n, 700n, 1_250n, 40_700n);

      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 700n, 250n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 3n, 1_250n, 40_700n]);
    });

    it("reports nothing for an interval without a reading", async function () {
      const { ledger, meter, t0 } = await networkHelpers.loadFixture(deployFixture);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("records a reading with no energy flow as recorded with zero deltas", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));

      await expect(
        record(reading(t0, { importStartWh: 9n, importEndWh: 9n, exportStartWh: 4n, exportEndWh: 4n })),
      )
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 1n, 0n, 0n, 9n, 4n);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 0n, 0n, 0n]);
    });

    it("keeps the readings of different meters apart", async function () {
      const { ledger, clock, meter, t0, reading, record, activeMeter, bob } =
        await networkHelpers.loadFixture(deployFixture);
      const bobMeter = await activeMeter(bob);
      await clock.to(clock.end(t0));

      await record(reading(t0, { exportEndWh: 10n }));
      await record(reading(t0, { sequence: 1n, exportStartWh: 500n, exportEndWh: 530n }, bobMeter), bobMeter);

      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 10n, 0n, 0n]);
      expect(await ledger.delivery(bobMeter.address, t0)).to.deep.equal([true, 30n, 0n, 0n]);
      expect(await ledger.meterState(bobMeter.address)).to.deep.equal([t0, 1n, 0n, 530n]);
    });

    it("refuses a reading signed by another key, naming the signer", async function () {
      const { ledger, clock, meter, t0, reading, signReading, eve } =
        await networkHelpers.loadFixture(deployFixture);
      const forger = Wallet.createRandom();
      const r = reading(t0, { exportEndWh: 1_000n });
      await clock.to(clock.end(t0));

      await expect(ledger.connect(eve).recordReading(r, await signReading(forger, r)))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerInvalidSignature")
        .withArgs(meter.address, forger.address);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("refuses a reading signed by another active meter", async function () {
      const { ledger, clock, meter, t0, reading, signReading, activeMeter, bob } =
        await networkHelpers.loadFixture(deployFixture);
      const bobMeter = await activeMeter(bob);
      const r = reading(t0, { exportEndWh: 1_000n });
      await clock.to(clock.end(t0));

      await expect(ledger.recordReading(r, await signReading(bobMeter, r)))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerInvalidSignature")
        .withArgs(meter.address, bobMeter.address);
    });

    it("refuses a reading whose export register was changed after signing", async function () {
      const { ledger, clock, meter, t0, reading, signReading, recoveredSigner } =
        await networkHelpers.loadFixture(deployFixture);
      const signed = reading(t0, { exportEndWh: 100n });
      const signature = await signReading(meter, signed);
      const tampered = { ...signed, exportEndWh: 10_000n };
      const recovered = recoveredSigner(tampered, signature);
      expect(recovered).to.not.equal(meter.address);
      await clock.to(clock.end(t0));

      await expect(ledger.recordReading(tampered, signature))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerInvalidSignature")
        .withArgs(meter.address, recovered);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("refuses a malformed signature as signed by the zero address", async function () {
      const { ledger, clock, meter, t0, reading } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));

      await expect(ledger.recordReading(reading(t0), "0x"))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerInvalidSignature")
        .withArgs(meter.address, ethers.ZeroAddress);
    });

    it("refuses a reading signed for another ledger", async function () {
      const { ledger, registry, clock, meter, t0, reading, chainId, recoveredSigner } =
        await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, { exportEndWh: 100n });
      const otherLedger = deliveryLedgerDomain(chainId, (await registry.getAddress()) as `0x${string}`);
      const signature = await meter.signTypedData(otherLedger, fields(meterReadingTypes), r);
      await clock.to(clock.end(t0));

      await expect(ledger.recordReading(r, signature))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerInvalidSignature")
        .withArgs(meter.address, recoveredSigner(r, signature));
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("refuses a reading signed for another chain", async function () {
      const { ledger, clock, meter, t0, reading, chainId, recoveredSigner } =
        await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, { exportEndWh: 100n });
      const otherChain = deliveryLedgerDomain(chainId + 1n, (await ledger.getAddress()) as `0x${string}`);
      const signature = await meter.signTypedData(otherChain, fields(meterReadingTypes), r);
      await clock.to(clock.end(t0));

      await expect(ledger.recordReading(r, signature))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerInvalidSignature")
        .withArgs(meter.address, recoveredSigner(r, signature));
    });

    it("refuses a meter that was enrolled but never activated", async function () {
      const { ledger, registry, clock, t0, reading, record, enrollMeter, bob } =
        await networkHelpers.loadFixture(deployFixture);
      const { meter: inactive } = await enrollMeter(bob);
      await clock.to(clock.end(t0));

      expect(await registry.activePeriod(inactive.address)).to.deep.equal([0n, 0n]);
      await expect(record(reading(t0, {}, inactive), inactive))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(inactive.address, t0);
      expect(await ledger.delivery(inactive.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(inactive.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses a meter that was never enrolled", async function () {
      const { ledger, clock, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      const unknown = Wallet.createRandom();
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, {}, unknown), unknown))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(unknown.address, t0);
      expect(await ledger.delivery(unknown.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(unknown.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });
  });

  describe("recordReading: the meter's active period", function () {
    it("expects the first reading for the first interval starting after the meter's activation", async function () {
      const { ledger, registry, clock, meter, t0, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([
        clock.start(t0) - ACTIVATION_LEAD,
        0n,
      ]);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, { exportEndWh: 7n })))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 1n, 0n, 7n, 0n, 7n);
    });

    it("refuses a reading of the interval during which the meter was activated", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0 - 1n, { exportEndWh: 7n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(meter.address, t0 - 1n);
      expect(await ledger.delivery(meter.address, t0 - 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
      // The first full interval is still the one expected.
      await expect(record(reading(t0, { exportEndWh: 7n }))).to.emit(ledger, "ReadingRecorded");
    });

    it("accepts an interval starting in the very second the meter was activated", async function () {
      const { ledger, registry, clock, t0, reading, record, activate, enrollMeter, bob } =
        await networkHelpers.loadFixture(deployFixture);
      const { meter: bobMeter, deviceId } = await enrollMeter(bob);
      await networkHelpers.time.setNextBlockTimestamp(clock.start(t0 + 1n));
      await activate(bobMeter.address, deviceId, "verdict-bob-1");
      expect(await registry.activePeriod(bobMeter.address)).to.deep.equal([clock.start(t0 + 1n), 0n]);
      await clock.to(clock.end(t0 + 1n));

      await expect(record(reading(t0, {}, bobMeter), bobMeter))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(bobMeter.address, t0);
      await expect(record(reading(t0 + 1n, { exportEndWh: 4n }, bobMeter), bobMeter))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(bobMeter.address, t0 + 1n, 1n, 0n, 4n, 0n, 4n);
    });

    it("refuses an interval that started one second before the meter was activated", async function () {
      const { ledger, clock, t0, reading, record, activate, enrollMeter, bob } =
        await networkHelpers.loadFixture(deployFixture);
      const { meter: bobMeter, deviceId } = await enrollMeter(bob);
      await networkHelpers.time.setNextBlockTimestamp(clock.start(t0 + 1n) + 1n);
      await activate(bobMeter.address, deviceId, "verdict-bob-1");
      await clock.to(clock.end(t0 + 2n));

      await expect(record(reading(t0 + 1n, {}, bobMeter), bobMeter))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(bobMeter.address, t0 + 1n);
      expect(await ledger.meterState(bobMeter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
      await expect(record(reading(t0 + 2n, { exportEndWh: 4n }, bobMeter), bobMeter))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(bobMeter.address, t0 + 2n, 1n, 0n, 4n, 0n, 4n);
    });

    it("records an interval that ended before the meter was deactivated, even in the second it ended", async function () {
      const { ledger, registry, clock, meter, t0, reading, record, alice } =
        await networkHelpers.loadFixture(deployFixture);
      await networkHelpers.time.setNextBlockTimestamp(clock.end(t0));
      await registry.connect(alice).deactivate(meter.address);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([
        clock.start(t0) - ACTIVATION_LEAD,
        clock.end(t0),
      ]);

      await expect(record(reading(t0, { exportEndWh: 50n })))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 1n, 0n, 50n, 0n, 50n);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 50n, 0n, 0n]);

      // The next interval started before the deactivation and ended after it.
      await clock.to(clock.end(t0 + 1n));
      await expect(record(reading(t0 + 1n, { sequence: 2n, exportStartWh: 50n, exportEndWh: 80n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(meter.address, t0 + 1n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 0n, 50n]);
    });

    it("refuses an interval during which the meter was deactivated, even in its last second", async function () {
      const { ledger, registry, clock, meter, t0, reading, record, admin } =
        await networkHelpers.loadFixture(deployFixture);
      await networkHelpers.time.setNextBlockTimestamp(clock.end(t0) - 1n);
      await registry.connect(admin).deactivate(meter.address);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, { exportEndWh: 50n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(meter.address, t0);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("takes readings again after a reactivation, from the first interval starting after it", async function () {
      const { ledger, registry, clock, meter, deviceId, t0, deadline, reading, record, activate, alice } =
        await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));
      await record(reading(t0, { exportEndWh: 50n }));
      await networkHelpers.time.setNextBlockTimestamp(clock.start(t0 + 1n) + 10n);
      await registry.connect(alice).deactivate(meter.address);
      await networkHelpers.time.setNextBlockTimestamp(clock.start(t0 + 1n) + 20n);
      await activate(meter.address, deviceId, "verdict-alice-2");
      expect(await registry.activePeriod(meter.address)).to.deep.equal([clock.start(t0 + 1n) + 20n, 0n]);
      await clock.to(clock.end(t0 + 2n));

      await expect(record(reading(t0 + 1n, { sequence: 2n, exportStartWh: 50n, exportEndWh: 60n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(meter.address, t0 + 1n);
      // The interval lost to the deactivation still holds later readings back until its deadline.
      const later = reading(t0 + 2n, { sequence: 2n, exportStartWh: 60n, exportEndWh: 80n });
      await expect(record(later))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerGapNotFinal")
        .withArgs(meter.address, t0 + 1n, deadline(t0 + 1n));
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 0n, 50n]);

      await networkHelpers.time.setNextBlockTimestamp(deadline(t0 + 1n));
      await expect(record(later))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 2n, 2n, 0n, 20n, 0n, 80n);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 2n, 2n, 0n, 80n]);
    });

    it("judges a reading by the meter's latest active period only, so a reactivation voids earlier unrecorded intervals", async function () {
      const { ledger, registry, clock, meter, deviceId, t0, reading, signReading, activate, alice } =
        await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, { exportEndWh: 50n });
      const signature = await signReading(meter, r);
      await networkHelpers.time.setNextBlockTimestamp(clock.end(t0) + 5n);
      await registry.connect(alice).deactivate(meter.address);
      // Recordable while the deactivation closes the period t0 lies in...
      await ledger.recordReading.staticCall(r, signature);

      // ...but no longer once a new period has begun.
      await activate(meter.address, deviceId, "verdict-alice-2");
      await expect(ledger.recordReading(r, signature))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerNotActiveDuringInterval")
        .withArgs(meter.address, t0);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });
  });

  describe("recordReading: timing, registers and order", function () {
    it("refuses a reading of an interval that has not ended, naming when it ends", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await networkHelpers.time.setNextBlockTimestamp(clock.end(t0) - 1n);

      await expect(record(reading(t0)))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerIntervalNotEnded")
        .withArgs(t0, clock.end(t0));
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("accepts a reading in the very second its interval ends", async function () {
      const { ledger, clock, meter, t0, reading, signReading } =
        await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, { exportEndWh: 5n });
      const signature = await signReading(meter, r);
      await networkHelpers.time.setNextBlockTimestamp(clock.end(t0));

      await expect(ledger.recordReading(r, signature))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 1n, 0n, 5n, 0n, 5n);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 5n, 0n, 0n]);
    });

    it("refuses a timestamp before the interval's end", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      const now = clock.end(t0) + 30n;
      await networkHelpers.time.setNextBlockTimestamp(now);

      await expect(record(reading(t0, { timestamp: clock.end(t0) - 1n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerTimestampOutOfRange")
        .withArgs(clock.end(t0) - 1n, clock.end(t0), now + MAX_CLOCK_SKEW);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("refuses a timestamp more than MAX_CLOCK_SKEW past the chain's clock", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      const now = clock.end(t0) + 30n;
      await networkHelpers.time.setNextBlockTimestamp(now);

      await expect(record(reading(t0, { timestamp: now + MAX_CLOCK_SKEW + 1n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerTimestampOutOfRange")
        .withArgs(now + MAX_CLOCK_SKEW + 1n, clock.end(t0), now + MAX_CLOCK_SKEW);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("accepts a timestamp exactly MAX_CLOCK_SKEW past the chain's clock", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      const now = clock.end(t0) + 30n;
      await networkHelpers.time.setNextBlockTimestamp(now);

      await expect(record(reading(t0, { timestamp: now + MAX_CLOCK_SKEW }))).to.emit(
        ledger,
        "ReadingRecorded",
      );
      expect((await ledger.delivery(meter.address, t0))[0]).to.equal(true);
    });

    it("accepts a reading in the last second before its interval's settlement deadline", async function () {
      const { ledger, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      await networkHelpers.time.setNextBlockTimestamp(deadline(t0) - 1n);

      await expect(record(reading(t0, { exportEndWh: 3n })))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 1n, 0n, 3n, 0n, 3n);
    });

    it("refuses a reading relayed from its interval's settlement deadline on, naming the deadline", async function () {
      const { ledger, clock, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      const late = reading(t0, { exportEndWh: 3n });

      // At the deadline itself settlement may already count the reading as missing.
      await networkHelpers.time.setNextBlockTimestamp(deadline(t0));
      await expect(record(late))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingTooLate")
        .withArgs(meter.address, t0, deadline(t0));
      await clock.to(clock.end(t0) + 86_400n);
      await expect(record(late))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingTooLate")
        .withArgs(meter.address, t0, deadline(t0));
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses an import register that decreases within the reading", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, { importStartWh: 100n, importEndWh: 99n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerRegistersDecrease")
        .withArgs(meter.address, t0);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses an export register that decreases within the reading", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, { exportStartWh: 100n, exportEndWh: 99n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerRegistersDecrease")
        .withArgs(meter.address, t0);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses the same signed reading relayed twice", async function () {
      const { ledger, clock, meter, t0, reading, signReading } =
        await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, { exportEndWh: 100n });
      const signature = await signReading(meter, r);
      await clock.to(clock.end(t0));
      await ledger.recordReading(r, signature);

      await expect(ledger.recordReading(r, signature))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingAlreadyRecorded")
        .withArgs(meter.address, t0);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 100n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 0n, 100n]);
    });

    it("refuses a second, different reading of an interval already recorded", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));
      await record(reading(t0, { exportEndWh: 100n }));

      await expect(record(reading(t0, { sequence: 2n, exportEndWh: 900n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingAlreadyRecorded")
        .withArgs(meter.address, t0);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 100n, 0n, 0n]);
    });

    it("leaves a skipped interval unrecordable only because its deadline has passed", async function () {
      const { ledger, clock, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      // Once the deadline of t0 + 1, the last interval skipped, has passed, t0 + 2 may come first.
      await clock.to(deadline(t0 + 1n));
      await record(reading(t0 + 2n, { sequence: 5n, exportStartWh: 100n, exportEndWh: 150n }));

      // An older reading can no longer be out of order while it is on time: it is simply late.
      await expect(record(reading(t0 + 1n, { sequence: 6n, exportStartWh: 0n, exportEndWh: 100n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingTooLate")
        .withArgs(meter.address, t0 + 1n, deadline(t0 + 1n));
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 2n, 5n, 0n, 150n]);
    });

    it("records the next interval when it starts where the previous reading ended", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { importEndWh: 10n, exportStartWh: 100n, exportEndWh: 500n }));

      await expect(
        record(
          reading(t0 + 1n, {
            sequence: 2n,
            importStartWh: 10n,
            importEndWh: 15n,
            exportStartWh: 500n,
            exportEndWh: 520n,
          }),
        ),
      )
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 1n, 2n, 5n, 20n, 15n, 520n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 1n, 2n, 15n, 520n]);
    });

    it("refuses the next interval when its export register does not start where the previous one ended", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { importEndWh: 10n, exportStartWh: 100n, exportEndWh: 500n }));

      await expect(
        record(
          reading(t0 + 1n, {
            sequence: 2n,
            importStartWh: 10n,
            importEndWh: 10n,
            exportStartWh: 499n,
            exportEndWh: 600n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerDiscontinuous")
        .withArgs(meter.address, t0 + 1n, 10n, 500n);
      // Skipping forward is as discontinuous as going back.
      await expect(
        record(
          reading(t0 + 1n, {
            sequence: 2n,
            importStartWh: 10n,
            importEndWh: 10n,
            exportStartWh: 501n,
            exportEndWh: 600n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerDiscontinuous")
        .withArgs(meter.address, t0 + 1n, 10n, 500n);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 10n, 500n]);
    });

    it("refuses the next interval when its import register does not start where the previous one ended", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));

      await expect(
        record(
          reading(t0 + 1n, {
            sequence: 2n,
            importStartWh: 11n,
            importEndWh: 12n,
            exportStartWh: 500n,
            exportEndWh: 500n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerDiscontinuous")
        .withArgs(meter.address, t0 + 1n, 10n, 500n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 10n, 500n]);
    });

    it("refuses a sequence number equal to the last one", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { sequence: 5n }));

      await expect(record(reading(t0 + 1n, { sequence: 5n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerSequenceNotIncreasing")
        .withArgs(meter.address, 5n, 5n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 5n, 0n, 0n]);
    });

    it("refuses a sequence number lower than the last one", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { sequence: 5n }));

      await expect(record(reading(t0 + 1n, { sequence: 4n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerSequenceNotIncreasing")
        .withArgs(meter.address, 4n, 5n);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
    });

    it("refuses sequence number zero on a meter's first reading", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, { sequence: 0n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerSequenceNotIncreasing")
        .withArgs(meter.address, 0n, 0n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("accepts sequence numbers that skip values", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { sequence: 5n }));

      await record(reading(t0 + 1n, { sequence: 100n }));
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 1n, 100n, 0n, 0n]);
    });
  });

  describe("recordReading: gaps", function () {
    it("refuses a later reading relayed before the skipped interval's deadline, and still takes the earlier one, then the later", async function () {
      const { ledger, clock, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));
      await record(reading(t0, { exportEndWh: 100n }));
      const earlier = reading(t0 + 1n, { sequence: 2n, exportStartWh: 100n, exportEndWh: 150n });
      const later = reading(t0 + 2n, { sequence: 3n, exportStartWh: 150n, exportEndWh: 170n });
      await clock.to(clock.end(t0 + 2n));

      // A relay holding both signed readings replays the later one first.
      await expect(record(later))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerGapNotFinal")
        .withArgs(meter.address, t0 + 1n, deadline(t0 + 1n));
      expect(await ledger.delivery(meter.address, t0 + 2n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 0n, 100n]);

      await expect(record(earlier))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 1n, 2n, 0n, 50n, 0n, 150n);
      await expect(record(later))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 2n, 3n, 0n, 20n, 0n, 170n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 2n, 3n, 0n, 170n]);
    });

    it("refuses a batch that puts a later reading before the earlier one", async function () {
      const { ledger, clock, meter, t0, deadline, reading, signReading } =
        await networkHelpers.loadFixture(deployFixture);
      const readings = [
        reading(t0 + 1n, { sequence: 2n, exportStartWh: 100n, exportEndWh: 150n }),
        reading(t0, { sequence: 1n, exportEndWh: 100n }),
      ];
      const signatures = await Promise.all(readings.map((r) => signReading(meter, r)));
      await clock.to(clock.end(t0 + 1n));

      await expect(ledger.recordReadings(readings, signatures))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerGapNotFinal")
        .withArgs(meter.address, t0, deadline(t0));
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("accepts a gap from the skipped interval's settlement deadline on, not a second before", async function () {
      const { ledger, clock, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      expect(deadline(t0 + 1n)).to.equal(clock.end(t0 + 1n) + SETTLEMENT_DELAY_SECONDS);
      await clock.to(clock.end(t0));
      await record(reading(t0, { exportEndWh: 100n }));
      // The registers may move on across a gap: the skipped interval's energy is simply unaccounted.
      const later = reading(t0 + 2n, { sequence: 2n, exportStartWh: 120n, exportEndWh: 170n });

      await networkHelpers.time.setNextBlockTimestamp(deadline(t0 + 1n) - 1n);
      await expect(record(later))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerGapNotFinal")
        .withArgs(meter.address, t0 + 1n, deadline(t0 + 1n));
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 0n, 100n]);

      await networkHelpers.time.setNextBlockTimestamp(deadline(t0 + 1n));
      await expect(record(later))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 2n, 2n, 0n, 50n, 0n, 170n);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 2n, 2n, 0n, 170n]);

      // The skipped interval can no longer be recorded.
      await expect(record(reading(t0 + 1n, { sequence: 3n, exportStartWh: 100n, exportEndWh: 120n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingTooLate")
        .withArgs(meter.address, t0 + 1n, deadline(t0 + 1n));
    });

    it("refuses a first reading that skips the first expected interval until that interval's deadline", async function () {
      const { ledger, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      const skipping = reading(t0 + 1n, { exportStartWh: 30n, exportEndWh: 39n });

      await networkHelpers.time.setNextBlockTimestamp(deadline(t0) - 1n);
      await expect(record(skipping))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerGapNotFinal")
        .withArgs(meter.address, t0, deadline(t0));
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);

      await networkHelpers.time.setNextBlockTimestamp(deadline(t0));
      await expect(record(skipping))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 1n, 1n, 0n, 9n, 0n, 39n);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });
    it("accepts a reading after a gap of several intervals when the registers did not go backwards", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));
      // Past the deadline of t0 + 3, the last interval skipped (and before t0 + 4's own).
      await clock.to(clock.end(t0 + 3n) + SETTLEMENT_DELAY_SECONDS);

      await expect(
        record(
          reading(t0 + 4n, {
            sequence: 2n,
            importStartWh: 10n,
            importEndWh: 30n,
            exportStartWh: 800n,
            exportEndWh: 900n,
          }),
        ),
      )
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 4n, 2n, 20n, 100n, 30n, 900n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 4n, 2n, 30n, 900n]);
      for (const skipped of [t0 + 1n, t0 + 2n, t0 + 3n]) {
        expect(await ledger.delivery(meter.address, skipped)).to.deep.equal([false, 0n, 0n, 0n]);
      }
    });

    it("refuses a reading after a gap whose export register went backwards", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));
      // Past the deadline of t0 + 3, the last interval skipped (and before t0 + 4's own).
      await clock.to(clock.end(t0 + 3n) + SETTLEMENT_DELAY_SECONDS);

      await expect(
        record(
          reading(t0 + 4n, {
            sequence: 2n,
            importStartWh: 10n,
            importEndWh: 10n,
            exportStartWh: 499n,
            exportEndWh: 900n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerRegistersDecrease")
        .withArgs(meter.address, t0 + 4n);
      expect(await ledger.delivery(meter.address, t0 + 4n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 10n, 500n]);
    });

    it("refuses a reading after a gap whose import register went backwards", async function () {
      const { ledger, clock, meter, t0, deadline, reading, record } =
        await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));
      await clock.to(deadline(t0 + 1n));

      await expect(
        record(
          reading(t0 + 2n, {
            sequence: 2n,
            importStartWh: 9n,
            importEndWh: 40n,
            exportStartWh: 500n,
            exportEndWh: 500n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerRegistersDecrease")
        .withArgs(meter.address, t0 + 2n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0, 1n, 10n, 500n]);
    });
  });

  describe("recordReadings", function () {
    it("records a batch of consecutive intervals in order", async function () {
      const { ledger, clock, meter, t0, reading, signReading, eve } =
        await networkHelpers.loadFixture(deployFixture);
      const readings = [
        reading(t0, { sequence: 1n, importEndWh: 2n, exportStartWh: 0n, exportEndWh: 100n }),
        reading(t0 + 1n, {
          sequence: 2n,
          importStartWh: 2n,
          importEndWh: 7n,
          exportStartWh: 100n,
          exportEndWh: 250n,
        }),
      ];
      const signatures = await Promise.all(readings.map((r) => signReading(meter, r)));
      await clock.to(clock.end(t0 + 1n));

      const tx = ledger.connect(eve).recordReadings(readings, signatures);
      await expect(tx).to.emit(ledger, "ReadingRecorded").withArgs(meter.address, t0, 1n, 2n, 100n, 2n, 100n);
      await expect(tx)
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 1n, 2n, 5n, 150n, 7n, 250n);

      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 100n, 2n, 0n]);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([true, 150n, 5n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 1n, 2n, 7n, 250n]);
    });

    it("accepts an empty batch", async function () {
      const { ledger, meter } = await networkHelpers.loadFixture(deployFixture);
      await expect(ledger.recordReadings([], [])).to.not.emit(ledger, "ReadingRecorded");
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses different numbers of readings and signatures", async function () {
      const { ledger, clock, meter, t0, reading, signReading } =
        await networkHelpers.loadFixture(deployFixture);
      const readings = [reading(t0), reading(t0 + 1n, { sequence: 2n })];
      await clock.to(clock.end(t0 + 1n));

      await expect(ledger.recordReadings(readings, [await signReading(meter, readings[0]!)]))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerLengthMismatch")
        .withArgs(2n, 1n);
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("records nothing when one reading of the batch fails", async function () {
      const { ledger, clock, meter, t0, reading, signReading } =
        await networkHelpers.loadFixture(deployFixture);
      const readings = [
        reading(t0, { sequence: 1n, exportEndWh: 100n }),
        // Does not start where the previous reading ended.
        reading(t0 + 1n, { sequence: 2n, exportStartWh: 90n, exportEndWh: 250n }),
      ];
      const signatures = await Promise.all(readings.map((r) => signReading(meter, r)));
      await clock.to(clock.end(t0 + 1n));

      await expect(ledger.recordReadings(readings, signatures))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerDiscontinuous")
        .withArgs(meter.address, t0 + 1n, 0n, 100n);
      for (const t of [t0, t0 + 1n]) {
        expect(await ledger.delivery(meter.address, t)).to.deep.equal([false, 0n, 0n, 0n]);
      }
      expect(await ledger.meterState(meter.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses a batch that repeats a reading", async function () {
      const { ledger, clock, meter, t0, reading, signReading } =
        await networkHelpers.loadFixture(deployFixture);
      const r = reading(t0, { exportEndWh: 100n });
      const signature = await signReading(meter, r);
      await clock.to(clock.end(t0));

      await expect(ledger.recordReadings([r, r], [signature, signature]))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingAlreadyRecorded")
        .withArgs(meter.address, t0);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
    });
  });

  describe("addObligation", function () {
    it("adds up the obligations of an interval and emits ObligationAdded", async function () {
      const { ledger, clock, meter, t0, dave } = await networkHelpers.loadFixture(obligationFixture);

      await expect(ledger.connect(dave).addObligation(meter.address, t0, 100n))
        .to.emit(ledger, "ObligationAdded")
        .withArgs(meter.address, t0, dave.address, 100n);
      await expect(ledger.connect(dave).addObligation(meter.address, t0, 250n))
        .to.emit(ledger, "ObligationAdded")
        .withArgs(meter.address, t0, dave.address, 250n);

      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 350n]);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);
      expect(clock.start(t0)).to.be.greaterThan(BigInt(await networkHelpers.time.latest()));
    });

    it("keeps the obligation beside the delivery once the reading is recorded", async function () {
      const { ledger, clock, meter, t0, reading, record, dave } =
        await networkHelpers.loadFixture(obligationFixture);
      await ledger.connect(dave).addObligation(meter.address, t0, 400n);
      await clock.to(clock.end(t0));
      await record(reading(t0, { exportStartWh: 1_000n, exportEndWh: 1_300n }));

      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 300n, 0n, 400n]);
    });

    it("accepts an obligation one second before the interval starts", async function () {
      const { ledger, clock, meter, t0, dave } = await networkHelpers.loadFixture(obligationFixture);
      await networkHelpers.time.setNextBlockTimestamp(clock.start(t0) - 1n);

      await ledger.connect(dave).addObligation(meter.address, t0, 10n);
      expect((await ledger.delivery(meter.address, t0))[3]).to.equal(10n);
    });

    it("refuses an obligation at the interval's start", async function () {
      const { ledger, clock, meter, t0, dave } = await networkHelpers.loadFixture(obligationFixture);
      await ledger.connect(dave).addObligation(meter.address, t0, 10n);
      await networkHelpers.time.setNextBlockTimestamp(clock.start(t0));

      await expect(ledger.connect(dave).addObligation(meter.address, t0, 5n))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerObligationTooLate")
        .withArgs(meter.address, t0, clock.start(t0));
      expect((await ledger.delivery(meter.address, t0))[3]).to.equal(10n);
    });

    it("refuses an obligation after the interval has started", async function () {
      const { ledger, clock, meter, t0, dave } = await networkHelpers.loadFixture(obligationFixture);
      await clock.to(clock.end(t0) + 5n);

      await expect(ledger.connect(dave).addObligation(meter.address, t0, 5n))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerObligationTooLate")
        .withArgs(meter.address, t0, clock.start(t0));
      expect((await ledger.delivery(meter.address, t0))[3]).to.equal(0n);
    });

    it("refuses an account without OBLIGATION_ROLE, the admin included", async function () {
      const { ledger, meter, t0, eve, admin } = await networkHelpers.loadFixture(obligationFixture);
      const role = await ledger.OBLIGATION_ROLE();

      await expect(ledger.connect(eve).addObligation(meter.address, t0, 5n))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(eve.address, role);
      await expect(ledger.connect(admin).addObligation(meter.address, t0, 5n))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, role);
      expect((await ledger.delivery(meter.address, t0))[3]).to.equal(0n);
    });

    it("grants OBLIGATION_ROLE to the market at deployment", async function () {
      const { ledger, market } = await networkHelpers.loadFixture(deployFixture);
      expect(await ledger.OBLIGATION_ROLE()).to.equal(ethers.id("OBLIGATION_ROLE"));
      expect(await ledger.hasRole(await ledger.OBLIGATION_ROLE(), await market.getAddress())).to.equal(true);
    });

    it("refuses an obligation that would overflow the interval's total", async function () {
      const { ledger, meter, t0, dave } = await networkHelpers.loadFixture(obligationFixture);
      await ledger.connect(dave).addObligation(meter.address, t0, 2n ** 64n - 1n);

      await expect(ledger.connect(dave).addObligation(meter.address, t0, 1n)).to.be.revertedWithPanic(0x11);
      expect((await ledger.delivery(meter.address, t0))[3]).to.equal(2n ** 64n - 1n);
    });
  });
});
