import { deliveryLedgerDomain, type MeterReading, meterReadingTypes } from "@gridmesh/contracts";
import { expect } from "chai";
import { type BaseWallet, type TypedDataField, Wallet } from "ethers";
import { network } from "hardhat";

import { INTERVAL_SECONDS, deployGridMesh, intervalClock } from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();

/** ethers wants mutable field arrays; the shared definitions are deeply readonly. */
const fields = (types: Record<string, readonly { name: string; type: string }[]>) =>
  types as unknown as Record<string, TypedDataField[]>;

const MAX_CLOCK_SKEW = 300n;

describe("DeliveryLedger", function () {
  async function deployFixture() {
    const gm = await deployGridMesh(ethers);
    const clock = intervalClock(networkHelpers);
    const meter = await gm.activeMeter(gm.alice);
    /** An interval that has not started yet: every test moves the clock past the ones it reads. */
    const t0 = await clock.openInterval(2n);

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

    return { ...gm, clock, meter, t0, reading, recoveredSigner, record };
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
    it("sets the admin, registry and interval length", async function () {
      const { ledger, registry, admin } = await networkHelpers.loadFixture(deployFixture);

      expect(await ledger.registry()).to.equal(await registry.getAddress());
      expect(await ledger.intervalSeconds()).to.equal(INTERVAL_SECONDS);
      expect(await ledger.MAX_CLOCK_SKEW()).to.equal(MAX_CLOCK_SKEW);
      expect(await ledger.hasRole(await ledger.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    });

    it("refuses a zero admin", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(
        factory.deploy(ethers.ZeroAddress, await registry.getAddress(), INTERVAL_SECONDS),
      ).to.be.revertedWithCustomError(factory, "DeliveryLedgerZeroAddress");
    });

    it("refuses a zero registry", async function () {
      const { admin } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(
        factory.deploy(admin.address, ethers.ZeroAddress, INTERVAL_SECONDS),
      ).to.be.revertedWithCustomError(factory, "DeliveryLedgerZeroAddress");
    });

    it("refuses a zero interval length", async function () {
      const { admin, registry } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("DeliveryLedger");
      await expect(factory.deploy(admin.address, await registry.getAddress(), 0n))
        .to.be.revertedWithCustomError(factory, "DeliveryLedgerInvalidInterval")
        .withArgs(0n);
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
      const { ledger, clock, t0, reading, record, enrollMeter, bob } =
        await networkHelpers.loadFixture(deployFixture);
      const { meter: inactive } = await enrollMeter(bob);
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, {}, inactive), inactive))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerMeterInactive")
        .withArgs(inactive.address);
      expect(await ledger.meterState(inactive.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("refuses a meter that was never enrolled", async function () {
      const { ledger, clock, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      const unknown = Wallet.createRandom();
      await clock.to(clock.end(t0));

      await expect(record(reading(t0, {}, unknown), unknown))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerMeterInactive")
        .withArgs(unknown.address);
    });

    it("refuses a deactivated meter and accepts it again, continuing where it stopped, once reactivated", async function () {
      const { ledger, registry, clock, meter, t0, reading, record, alice, attest } =
        await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 1n));
      await record(reading(t0, { exportEndWh: 50n }));
      await registry.connect(alice).deactivate(meter.address);

      const next = reading(t0 + 1n, { sequence: 2n, exportStartWh: 50n, exportEndWh: 80n });
      await expect(record(next))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerMeterInactive")
        .withArgs(meter.address);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([false, 0n, 0n, 0n]);

      const [, deviceId] = await registry.meterInfo(meter.address);
      const verdict = ethers.id("reactivation");
      await registry.activate(meter.address, verdict, await attest(meter.address, deviceId, verdict));
      await expect(record(next))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 1n, 2n, 0n, 30n, 0n, 80n);
    });

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

    it("accepts a reading relayed long after its interval", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0) + 86_400n);

      await expect(record(reading(t0, { exportEndWh: 3n })))
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0, 1n, 0n, 3n, 0n, 3n);
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

    it("refuses an older interval after a newer one", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 2n));
      await record(reading(t0 + 2n, { sequence: 5n, exportStartWh: 100n, exportEndWh: 150n }));

      await expect(record(reading(t0, { sequence: 6n, exportStartWh: 0n, exportEndWh: 100n })))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerReadingOutOfOrder")
        .withArgs(meter.address, t0, t0 + 2n);
      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([false, 0n, 0n, 0n]);
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

    it("accepts a reading after a gap of several intervals when the registers did not go backwards", async function () {
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 4n));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));

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
      await clock.to(clock.end(t0 + 4n));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));

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
      const { ledger, clock, meter, t0, reading, record } = await networkHelpers.loadFixture(deployFixture);
      await clock.to(clock.end(t0 + 2n));
      await record(reading(t0, { importEndWh: 10n, exportEndWh: 500n }));

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

  describe("recordReadings", function () {
    it("records a batch of consecutive intervals in order", async function () {
      const { ledger, clock, meter, t0, reading, signReading, eve } =
        await networkHelpers.loadFixture(deployFixture);
      const readings = [
        reading(t0, { sequence: 1n, importEndWh: 2n, exportStartWh: 0n, exportEndWh: 100n }),
        reading(t0 + 1n, {
          sequence: 2n,
          importStartWh: 2n,
          importEndWh: 2n,
          exportStartWh: 100n,
          exportEndWh: 250n,
        }),
        reading(t0 + 2n, {
          sequence: 3n,
          importStartWh: 2n,
          importEndWh: 7n,
          exportStartWh: 250n,
          exportEndWh: 260n,
        }),
      ];
      const signatures = await Promise.all(readings.map((r) => signReading(meter, r)));
      await clock.to(clock.end(t0 + 2n));

      const tx = ledger.connect(eve).recordReadings(readings, signatures);
      await expect(tx).to.emit(ledger, "ReadingRecorded").withArgs(meter.address, t0, 1n, 2n, 100n, 2n, 100n);
      await expect(tx)
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 1n, 2n, 0n, 150n, 2n, 250n);
      await expect(tx)
        .to.emit(ledger, "ReadingRecorded")
        .withArgs(meter.address, t0 + 2n, 3n, 5n, 10n, 7n, 260n);

      expect(await ledger.delivery(meter.address, t0)).to.deep.equal([true, 100n, 2n, 0n]);
      expect(await ledger.delivery(meter.address, t0 + 1n)).to.deep.equal([true, 150n, 0n, 0n]);
      expect(await ledger.delivery(meter.address, t0 + 2n)).to.deep.equal([true, 10n, 5n, 0n]);
      expect(await ledger.meterState(meter.address)).to.deep.equal([t0 + 2n, 3n, 7n, 260n]);
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
        reading(t0 + 1n, { sequence: 2n, exportStartWh: 100n, exportEndWh: 250n }),
        // Does not start where the previous reading ended.
        reading(t0 + 2n, { sequence: 3n, exportStartWh: 240n, exportEndWh: 260n }),
      ];
      const signatures = await Promise.all(readings.map((r) => signReading(meter, r)));
      await clock.to(clock.end(t0 + 2n));

      await expect(ledger.recordReadings(readings, signatures))
        .to.be.revertedWithCustomError(ledger, "DeliveryLedgerDiscontinuous")
        .withArgs(meter.address, t0 + 2n, 0n, 250n);
      for (const t of [t0, t0 + 1n, t0 + 2n]) {
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
