import { meterAttestationTypes, meterEnrollmentTypes, meterRegistryDomain } from "@gridmesh/contracts";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { type TypedDataField, Wallet } from "ethers";
import { network } from "hardhat";

import { deployGridMesh } from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();

/** ethers wants mutable field arrays; the shared definitions are deeply readonly. */
const fields = (types: Record<string, readonly { name: string; type: string }[]>) =>
  types as unknown as Record<string, TypedDataField[]>;

type Signer = HardhatEthersSigner | Wallet;

const byAddress = (a: { address: string }, b: { address: string }) =>
  a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1;

describe("MeterRegistry", function () {
  async function deployFixture() {
    const gm = await deployGridMesh(ethers);
    /** The three verifiers, in ascending address order (the order `activate` wants them in). */
    const sorted = [...gm.verifiers].sort(byAddress) as [
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
    ];

    /** The meter key's EIP-712 consent to be enrolled under `owner`. */
    async function consent(meter: Signer, owner: string, deviceId: string, domain = gm.registryDomain) {
      return meter.signTypedData(domain, fields(meterEnrollmentTypes), {
        meter: meter.address,
        owner,
        deviceId,
      });
    }

    /** One attestation signature by `by`, in the order given (not sorted). */
    async function attestBy(by: Signer[], meter: string, deviceId: string, verdictTxId: string) {
      return Promise.all(
        by.map((v) =>
          v.signTypedData(gm.registryDomain, fields(meterAttestationTypes), { deviceId, meter, verdictTxId }),
        ),
      );
    }

    /** Who the registry will recover from `signature` over the attestation it builds itself. */
    function attestationSigner(signature: string, meter: string, deviceId: string, verdictTxId: string) {
      return ethers.verifyTypedData(
        gm.registryDomain,
        fields(meterAttestationTypes),
        { deviceId, meter, verdictTxId },
        signature,
      );
    }

    return { ...gm, sorted, consent, attestBy, attestationSigner };
  }

  /** A fresh, enrolled but inactive meter owned by alice. */
  async function enrolledFixture() {
    const f = await deployFixture();
    const deviceId = ethers.id("device-alice-1");
    const { meter } = await f.enrollMeter(f.alice, deviceId);
    const verdictTxId = ethers.id("verdict-alice-1");
    return { ...f, meter, deviceId, verdictTxId };
  }

  /**
   * Alice's meter, activated with verdict `verdictTxId` by the two lowest-addressed verifiers at
   * `activatedAt`, a minute after the enrolment.
   */
  async function activeFixture() {
    const f = await enrolledFixture();
    const activatedAt = BigInt(await networkHelpers.time.latest()) + 60n;
    await networkHelpers.time.setNextBlockTimestamp(activatedAt);
    await f.registry.activate(
      f.meter.address,
      f.verdictTxId,
      await f.attestBy([f.sorted[0], f.sorted[1]], f.meter.address, f.deviceId, f.verdictTxId),
    );
    return { ...f, activatedAt };
  }

  describe("EIP-712 definitions", function () {
    it("hashes the TypeScript MeterEnrollment definition to the contract's ENROLLMENT_TYPEHASH", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      const encoded = ethers.TypedDataEncoder.from(fields(meterEnrollmentTypes)).encodeType(
        "MeterEnrollment",
      );

      expect(encoded).to.equal("MeterEnrollment(address meter,address owner,bytes32 deviceId)");
      expect(await registry.ENROLLMENT_TYPEHASH()).to.equal(ethers.id(encoded));
    });

    it("hashes the TypeScript MeterAttestation definition to the contract's ATTESTATION_TYPEHASH", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      const encoded = ethers.TypedDataEncoder.from(fields(meterAttestationTypes)).encodeType(
        "MeterAttestation",
      );

      expect(encoded).to.equal("MeterAttestation(bytes32 deviceId,address meter,bytes32 verdictTxId)");
      expect(await registry.ATTESTATION_TYPEHASH()).to.equal(ethers.id(encoded));
    });

    it("uses the domain separator of meterRegistryDomain for this chain and address", async function () {
      const { registry, registryDomain } = await networkHelpers.loadFixture(deployFixture);
      expect(await registry.domainSeparator()).to.equal(ethers.TypedDataEncoder.hashDomain(registryDomain));
    });
  });

  describe("constructor", function () {
    it("grants the admin role and registers the verifiers and threshold", async function () {
      const { registry, admin, verifiers, eve } = await networkHelpers.loadFixture(deployFixture);

      expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
      for (const v of verifiers) expect(await registry.isVerifier(v.address)).to.equal(true);
      expect(await registry.isVerifier(eve.address)).to.equal(false);
    });

    it("refuses a zero admin", async function () {
      const { verifiers } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("MeterRegistry");
      await expect(
        factory.deploy(
          ethers.ZeroAddress,
          verifiers.map((v) => v.address),
          2n,
        ),
      ).to.be.revertedWithCustomError(factory, "MeterRegistryZeroAddress");
    });

    it("refuses a zero verifier address", async function () {
      const { admin, sorted } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("MeterRegistry");
      await expect(
        factory.deploy(admin.address, [sorted[0].address, ethers.ZeroAddress], 1n),
      ).to.be.revertedWithCustomError(factory, "MeterRegistryZeroAddress");
    });

    it("refuses the same verifier listed twice", async function () {
      const { admin, sorted } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("MeterRegistry");
      await expect(factory.deploy(admin.address, [sorted[0].address, sorted[0].address], 1n))
        .to.be.revertedWithCustomError(factory, "MeterRegistryVerifierAlreadyAdded")
        .withArgs(sorted[0].address);
    });

    it("refuses a zero threshold", async function () {
      const { admin, verifiers } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("MeterRegistry");
      await expect(
        factory.deploy(
          admin.address,
          verifiers.map((v) => v.address),
          0n,
        ),
      )
        .to.be.revertedWithCustomError(factory, "MeterRegistryInvalidThreshold")
        .withArgs(0n, 3n);
    });

    it("refuses a threshold above the number of verifiers", async function () {
      const { admin, verifiers } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("MeterRegistry");
      await expect(
        factory.deploy(
          admin.address,
          verifiers.map((v) => v.address),
          4n,
        ),
      )
        .to.be.revertedWithCustomError(factory, "MeterRegistryInvalidThreshold")
        .withArgs(4n, 3n);
    });

    it("refuses an empty verifier list", async function () {
      const { admin } = await networkHelpers.loadFixture(deployFixture);
      const factory = await ethers.getContractFactory("MeterRegistry");
      await expect(factory.deploy(admin.address, [], 0n))
        .to.be.revertedWithCustomError(factory, "MeterRegistryInvalidThreshold")
        .withArgs(0n, 0n);
    });
  });

  describe("enroll", function () {
    it("enrols a meter under the caller with the meter key's consent, inactive", async function () {
      const { registry, alice, consent } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const deviceId = ethers.id("device-1");

      await expect(
        registry
          .connect(alice)
          .enroll(meter.address, deviceId, await consent(meter, alice.address, deviceId)),
      )
        .to.emit(registry, "MeterEnrolled")
        .withArgs(meter.address, alice.address, deviceId);

      expect(await registry.meterInfo(meter.address)).to.deep.equal([alice.address, deviceId, false]);
      expect(await registry.ownerOf(meter.address)).to.equal(alice.address);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([0n, 0n]);
    });

    it("reports the zero owner and nothing else for a meter never enrolled", async function () {
      const { registry } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      expect(await registry.meterInfo(meter.address)).to.deep.equal([
        ethers.ZeroAddress,
        ethers.ZeroHash,
        false,
      ]);
      expect(await registry.ownerOf(meter.address)).to.equal(ethers.ZeroAddress);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([0n, 0n]);
    });

    it("refuses the zero meter address", async function () {
      const { registry, alice } = await networkHelpers.loadFixture(deployFixture);
      await expect(
        registry.connect(alice).enroll(ethers.ZeroAddress, ethers.id("device-1"), "0x"),
      ).to.be.revertedWithCustomError(registry, "MeterRegistryZeroAddress");
    });

    it("refuses a consent signed by a key other than the meter's, naming the signer", async function () {
      const { registry, alice, eve, registryDomain } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const deviceId = ethers.id("device-1");
      const forged = await eve.signTypedData(registryDomain, fields(meterEnrollmentTypes), {
        meter: meter.address,
        owner: alice.address,
        deviceId,
      });

      await expect(registry.connect(alice).enroll(meter.address, deviceId, forged))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidEnrollmentSignature")
        .withArgs(meter.address, eve.address);
      expect(await registry.ownerOf(meter.address)).to.equal(ethers.ZeroAddress);
    });

    it("refuses a consent the meter gave to another owner", async function () {
      const { registry, alice, eve, registryDomain, consent } =
        await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const deviceId = ethers.id("device-1");
      const forAlice = await consent(meter, alice.address, deviceId);
      // What the registry recovers when it hashes the consent with eve as the owner.
      const recovered = ethers.verifyTypedData(
        registryDomain,
        fields(meterEnrollmentTypes),
        { meter: meter.address, owner: eve.address, deviceId },
        forAlice,
      );
      expect(recovered).to.not.equal(meter.address);

      await expect(registry.connect(eve).enroll(meter.address, deviceId, forAlice))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidEnrollmentSignature")
        .withArgs(meter.address, recovered);
      expect(await registry.ownerOf(meter.address)).to.equal(ethers.ZeroAddress);
    });

    it("refuses a consent given for another device id", async function () {
      const { registry, alice, consent } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const signature = await consent(meter, alice.address, ethers.id("device-1"));

      await expect(
        registry.connect(alice).enroll(meter.address, ethers.id("device-2"), signature),
      ).to.be.revertedWithCustomError(registry, "MeterRegistryInvalidEnrollmentSignature");
      expect(await registry.ownerOf(meter.address)).to.equal(ethers.ZeroAddress);
    });

    it("refuses a consent signed for another registry", async function () {
      const { registry, alice, consent, chainId, ledger } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const deviceId = ethers.id("device-1");
      const otherDomain = meterRegistryDomain(chainId, (await ledger.getAddress()) as `0x${string}`);
      const signature = await consent(meter, alice.address, deviceId, otherDomain);

      await expect(
        registry.connect(alice).enroll(meter.address, deviceId, signature),
      ).to.be.revertedWithCustomError(registry, "MeterRegistryInvalidEnrollmentSignature");
    });

    it("refuses a malformed signature as signed by the zero address", async function () {
      const { registry, alice } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      await expect(registry.connect(alice).enroll(meter.address, ethers.id("device-1"), "0x1234"))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidEnrollmentSignature")
        .withArgs(meter.address, ethers.ZeroAddress);
    });

    it("refuses a meter already enrolled, even with a fresh consent for a new owner", async function () {
      const { registry, alice, bob, consent } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const deviceId = ethers.id("device-1");
      await registry
        .connect(alice)
        .enroll(meter.address, deviceId, await consent(meter, alice.address, deviceId));

      const otherDevice = ethers.id("device-2");
      await expect(
        registry
          .connect(bob)
          .enroll(meter.address, otherDevice, await consent(meter, bob.address, otherDevice)),
      )
        .to.be.revertedWithCustomError(registry, "MeterRegistryAlreadyEnrolled")
        .withArgs(meter.address, alice.address);
      expect(await registry.meterInfo(meter.address)).to.deep.equal([alice.address, deviceId, false]);
    });

    it("refuses the same owner enrolling the meter twice", async function () {
      const { registry, alice, consent } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      const deviceId = ethers.id("device-1");
      const signature = await consent(meter, alice.address, deviceId);
      await registry.connect(alice).enroll(meter.address, deviceId, signature);

      await expect(registry.connect(alice).enroll(meter.address, deviceId, signature))
        .to.be.revertedWithCustomError(registry, "MeterRegistryAlreadyEnrolled")
        .withArgs(meter.address, alice.address);
    });
  });

  describe("activate", function () {
    it("activates with two of three verifier signatures in ascending signer order", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy, eve } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy([sorted[0], sorted[2]], meter.address, deviceId, verdictTxId);

      await expect(registry.connect(eve).activate(meter.address, verdictTxId, signatures))
        .to.emit(registry, "MeterActivated")
        .withArgs(meter.address, verdictTxId, [sorted[0].address, sorted[2].address]);

      expect(await registry.isActive(meter.address)).to.equal(true);
      expect(await registry.verdictUsed(verdictTxId)).to.equal(true);
      expect((await registry.meterInfo(meter.address))[2]).to.equal(true);
    });

    it("activates with all three verifiers when more than the threshold sign", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy(sorted, meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.emit(registry, "MeterActivated")
        .withArgs(
          meter.address,
          verdictTxId,
          sorted.map((v) => v.address),
        );
      expect(await registry.isActive(meter.address)).to.equal(true);
    });

    it("refuses a meter that was never enrolled", async function () {
      const { registry, verdictTxId, sorted, attestBy } = await networkHelpers.loadFixture(enrolledFixture);
      const stranger = Wallet.createRandom();
      const signatures = await attestBy(
        [sorted[0], sorted[1]],
        stranger.address,
        ethers.ZeroHash,
        verdictTxId,
      );

      await expect(registry.activate(stranger.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotEnrolled")
        .withArgs(stranger.address);
      expect(await registry.verdictUsed(verdictTxId)).to.equal(false);
    });

    it("refuses a meter that is already active, keeping its active period", async function () {
      const { registry, meter, deviceId, sorted, attestBy, activatedAt } =
        await networkHelpers.loadFixture(activeFixture);
      const newVerdict = ethers.id("verdict-alice-2");
      const signatures = await attestBy([sorted[0], sorted[1]], meter.address, deviceId, newVerdict);

      await expect(registry.activate(meter.address, newVerdict, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryAlreadyActive")
        .withArgs(meter.address);
      expect(await registry.verdictUsed(newVerdict)).to.equal(false);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([activatedAt, 0n]);
    });

    it("refuses a verdict that already activated another meter", async function () {
      const { registry, verdictTxId, sorted, attestBy, enrollMeter, bob } =
        await networkHelpers.loadFixture(activeFixture);
      const { meter: bobMeter, deviceId: bobDevice } = await enrollMeter(bob);
      const signatures = await attestBy([sorted[0], sorted[1]], bobMeter.address, bobDevice, verdictTxId);

      await expect(registry.activate(bobMeter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryVerdictAlreadyUsed")
        .withArgs(verdictTxId);
      expect(await registry.isActive(bobMeter.address)).to.equal(false);
    });

    it("refuses fewer signatures than the threshold", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy([sorted[0]], meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryTooFewAttestations")
        .withArgs(1n, 2n);
      await expect(registry.activate(meter.address, verdictTxId, []))
        .to.be.revertedWithCustomError(registry, "MeterRegistryTooFewAttestations")
        .withArgs(0n, 2n);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.verdictUsed(verdictTxId)).to.equal(false);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([0n, 0n]);
    });

    it("refuses one verifier's signature counted twice", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const [signature] = await attestBy([sorted[0]], meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, [signature!, signature!]))
        .to.be.revertedWithCustomError(registry, "MeterRegistrySignersNotAscending")
        .withArgs(sorted[0].address, sorted[0].address);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.verdictUsed(verdictTxId)).to.equal(false);
    });

    it("refuses signatures in descending signer order", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy([sorted[1], sorted[0]], meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistrySignersNotAscending")
        .withArgs(sorted[0].address, sorted[1].address);
      expect(await registry.isActive(meter.address)).to.equal(false);
    });

    it("refuses a signature from an account that is not a verifier, naming it", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const outsider = Wallet.createRandom();
      // Keep the signers ascending so the only fault is the outsider.
      const signers = [sorted[0], outsider].sort(byAddress);
      const signatures = await attestBy(signers, meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(outsider.address);
      expect(await registry.isActive(meter.address)).to.equal(false);
    });

    it("refuses an attestation of another device id, whose recovered signer is no verifier", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy, attestationSigner } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy(
        [sorted[0], sorted[1]],
        meter.address,
        ethers.id("other-device"),
        verdictTxId,
      );
      const recovered = attestationSigner(signatures[0]!, meter.address, deviceId, verdictTxId);
      expect(recovered).to.not.equal(sorted[0].address);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(recovered);
      expect(await registry.isActive(meter.address)).to.equal(false);
    });

    it("refuses an attestation of another meter, whose recovered signer is no verifier", async function () {
      const {
        registry,
        meter,
        deviceId,
        verdictTxId,
        sorted,
        attestBy,
        attestationSigner,
        enrollMeter,
        bob,
      } = await networkHelpers.loadFixture(enrolledFixture);
      // Verifiers attested bob's meter with alice's device id and this verdict; alice replays it.
      const { meter: bobMeter } = await enrollMeter(bob);
      const signatures = await attestBy([sorted[0], sorted[1]], bobMeter.address, deviceId, verdictTxId);
      const recovered = attestationSigner(signatures[0]!, meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(recovered);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.verdictUsed(verdictTxId)).to.equal(false);
    });

    it("refuses an attestation of another verdict", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy, attestationSigner } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy(
        [sorted[0], sorted[1]],
        meter.address,
        deviceId,
        ethers.id("other-verdict"),
      );
      const recovered = attestationSigner(signatures[0]!, meter.address, deviceId, verdictTxId);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(recovered);
    });

    it("refuses a malformed signature as signed by the zero address", async function () {
      const { registry, meter, verdictTxId } = await networkHelpers.loadFixture(enrolledFixture);
      await expect(registry.activate(meter.address, verdictTxId, ["0x", "0x"]))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(ethers.ZeroAddress);
    });

    it("no longer counts the signature of a removed verifier", async function () {
      const { registry, admin, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const signatures = await attestBy([sorted[0], sorted[1]], meter.address, deviceId, verdictTxId);
      await registry.connect(admin).removeVerifier(sorted[1].address);

      await expect(registry.activate(meter.address, verdictTxId, signatures))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(sorted[1].address);
      expect(await registry.isActive(meter.address)).to.equal(false);
    });

    it("counts the signature of a verifier added later", async function () {
      const { registry, admin, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const newcomer = Wallet.createRandom();
      await registry.connect(admin).addVerifier(newcomer.address);
      const signatures = await attestBy(
        [sorted[0], newcomer].sort(byAddress),
        meter.address,
        deviceId,
        verdictTxId,
      );

      await registry.activate(meter.address, verdictTxId, signatures);
      expect(await registry.isActive(meter.address)).to.equal(true);
    });

    it("follows a threshold raised by the admin", async function () {
      const { registry, admin, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      await registry.connect(admin).setThreshold(3n);

      await expect(
        registry.activate(
          meter.address,
          verdictTxId,
          await attestBy([sorted[0], sorted[1]], meter.address, deviceId, verdictTxId),
        ),
      )
        .to.be.revertedWithCustomError(registry, "MeterRegistryTooFewAttestations")
        .withArgs(2n, 3n);
      await registry.activate(
        meter.address,
        verdictTxId,
        await attestBy(sorted, meter.address, deviceId, verdictTxId),
      );
      expect(await registry.isActive(meter.address)).to.equal(true);
    });
  });

  describe("deactivate", function () {
    it("lets the owner deactivate their meter", async function () {
      const { registry, alice, meter, activatedAt } = await networkHelpers.loadFixture(activeFixture);

      await expect(registry.connect(alice).deactivate(meter.address))
        .to.emit(registry, "MeterDeactivated")
        .withArgs(meter.address, alice.address);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.ownerOf(meter.address)).to.equal(alice.address);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([
        activatedAt,
        BigInt(await networkHelpers.time.latest()),
      ]);
    });

    it("lets an admin deactivate any meter", async function () {
      const { registry, admin, meter } = await networkHelpers.loadFixture(activeFixture);

      await expect(registry.connect(admin).deactivate(meter.address))
        .to.emit(registry, "MeterDeactivated")
        .withArgs(meter.address, admin.address);
      expect(await registry.isActive(meter.address)).to.equal(false);
    });

    it("refuses anyone else", async function () {
      const { registry, eve, meter, sorted, activatedAt } = await networkHelpers.loadFixture(activeFixture);

      await expect(registry.connect(eve).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryUnauthorized")
        .withArgs(eve.address, meter.address);
      await expect(registry.connect(sorted[0]).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryUnauthorized")
        .withArgs(sorted[0].address, meter.address);
      expect(await registry.isActive(meter.address)).to.equal(true);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([activatedAt, 0n]);
    });

    it("refuses the meter key itself, which is not the owner", async function () {
      const { registry, meter, eve } = await networkHelpers.loadFixture(activeFixture);
      const meterKey = meter.connect(ethers.provider);
      await eve.sendTransaction({ to: meter.address, value: ethers.parseEther("1") });

      await expect(registry.connect(meterKey).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryUnauthorized")
        .withArgs(meter.address, meter.address);
    });

    it("refuses a meter that is enrolled but not active", async function () {
      const { registry, alice, meter } = await networkHelpers.loadFixture(enrolledFixture);
      await expect(registry.connect(alice).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotActive")
        .withArgs(meter.address);
    });

    it("refuses a meter already deactivated, keeping when it was deactivated", async function () {
      const { registry, alice, admin, meter, activatedAt } = await networkHelpers.loadFixture(activeFixture);
      await registry.connect(alice).deactivate(meter.address);
      const deactivatedAt = BigInt(await networkHelpers.time.latest());
      await networkHelpers.time.increase(30);

      await expect(registry.connect(alice).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotActive")
        .withArgs(meter.address);
      await expect(registry.connect(admin).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotActive")
        .withArgs(meter.address);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([activatedAt, deactivatedAt]);
    });

    it("refuses a stranger deactivating a meter never enrolled as unauthorised", async function () {
      const { registry, eve } = await networkHelpers.loadFixture(deployFixture);
      const meter = Wallet.createRandom();
      await expect(registry.connect(eve).deactivate(meter.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryUnauthorized")
        .withArgs(eve.address, meter.address);
    });

    it("requires a new verdict to reactivate the meter", async function () {
      const { registry, alice, meter, deviceId, verdictTxId, sorted, attestBy, activatedAt } =
        await networkHelpers.loadFixture(activeFixture);
      await registry.connect(alice).deactivate(meter.address);
      const deactivatedAt = BigInt(await networkHelpers.time.latest());

      const again = await attestBy([sorted[0], sorted[1]], meter.address, deviceId, verdictTxId);
      await expect(registry.activate(meter.address, verdictTxId, again))
        .to.be.revertedWithCustomError(registry, "MeterRegistryVerdictAlreadyUsed")
        .withArgs(verdictTxId);
      expect(await registry.isActive(meter.address)).to.equal(false);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([activatedAt, deactivatedAt]);

      const newVerdict = ethers.id("verdict-alice-2");
      await expect(
        registry.activate(
          meter.address,
          newVerdict,
          await attestBy([sorted[1], sorted[2]], meter.address, deviceId, newVerdict),
        ),
      )
        .to.emit(registry, "MeterActivated")
        .withArgs(meter.address, newVerdict, [sorted[1].address, sorted[2].address]);
      expect(await registry.isActive(meter.address)).to.equal(true);
    });
  });

  describe("activePeriod", function () {
    it("records the second of activation, with no deactivation", async function () {
      const { registry, meter, deviceId, verdictTxId, sorted, attestBy } =
        await networkHelpers.loadFixture(enrolledFixture);
      const at = BigInt(await networkHelpers.time.latest()) + 100n;
      await networkHelpers.time.setNextBlockTimestamp(at);

      await registry.activate(
        meter.address,
        verdictTxId,
        await attestBy([sorted[0], sorted[1]], meter.address, deviceId, verdictTxId),
      );
      expect(await registry.activePeriod(meter.address)).to.deep.equal([at, 0n]);
      expect(await registry.isActive(meter.address)).to.equal(true);
    });

    it("adds the second of deactivation, keeping the second of activation", async function () {
      const { registry, admin, meter, activatedAt } = await networkHelpers.loadFixture(activeFixture);
      const at = activatedAt + 3_600n;
      await networkHelpers.time.setNextBlockTimestamp(at);

      await registry.connect(admin).deactivate(meter.address);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([activatedAt, at]);
      expect(await registry.isActive(meter.address)).to.equal(false);
    });

    it("starts a new period on reactivation, clearing the deactivation", async function () {
      const { registry, alice, meter, deviceId, activatedAt, sorted, attestBy } =
        await networkHelpers.loadFixture(activeFixture);
      await networkHelpers.time.setNextBlockTimestamp(activatedAt + 3_600n);
      await registry.connect(alice).deactivate(meter.address);
      const newVerdict = ethers.id("verdict-alice-2");
      const reactivatedAt = activatedAt + 7_200n;
      await networkHelpers.time.setNextBlockTimestamp(reactivatedAt);

      await registry.activate(
        meter.address,
        newVerdict,
        await attestBy([sorted[0], sorted[1]], meter.address, deviceId, newVerdict),
      );
      expect(await registry.activePeriod(meter.address)).to.deep.equal([reactivatedAt, 0n]);
      expect(await registry.isActive(meter.address)).to.equal(true);

      // A second deactivation closes the new period.
      await networkHelpers.time.setNextBlockTimestamp(reactivatedAt + 60n);
      await registry.connect(alice).deactivate(meter.address);
      expect(await registry.activePeriod(meter.address)).to.deep.equal([reactivatedAt, reactivatedAt + 60n]);
    });
  });

  describe("addVerifier", function () {
    it("lets the admin add a verifier", async function () {
      const { registry, admin, eve } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(admin).addVerifier(eve.address))
        .to.emit(registry, "VerifierAdded")
        .withArgs(eve.address);
      expect(await registry.isVerifier(eve.address)).to.equal(true);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 4n]);
    });

    it("refuses anyone else", async function () {
      const { registry, eve, sorted } = await networkHelpers.loadFixture(deployFixture);
      const adminRole = await registry.DEFAULT_ADMIN_ROLE();

      await expect(registry.connect(eve).addVerifier(eve.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(eve.address, adminRole);
      await expect(registry.connect(sorted[0]).addVerifier(eve.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(sorted[0].address, adminRole);
      expect(await registry.isVerifier(eve.address)).to.equal(false);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("refuses an existing verifier", async function () {
      const { registry, admin, sorted } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(admin).addVerifier(sorted[1].address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryVerifierAlreadyAdded")
        .withArgs(sorted[1].address);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("refuses the zero address", async function () {
      const { registry, admin } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(admin).addVerifier(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "MeterRegistryZeroAddress",
      );
      expect(await registry.isVerifier(ethers.ZeroAddress)).to.equal(false);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("lets the admin add back a verifier it removed", async function () {
      const { registry, admin, sorted } = await networkHelpers.loadFixture(deployFixture);
      await registry.connect(admin).removeVerifier(sorted[0].address);

      await expect(registry.connect(admin).addVerifier(sorted[0].address))
        .to.emit(registry, "VerifierAdded")
        .withArgs(sorted[0].address);
      expect(await registry.isVerifier(sorted[0].address)).to.equal(true);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });
  });

  describe("removeVerifier", function () {
    it("lets the admin remove a verifier while the threshold stays reachable", async function () {
      const { registry, admin, sorted } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(admin).removeVerifier(sorted[2].address))
        .to.emit(registry, "VerifierRemoved")
        .withArgs(sorted[2].address);
      expect(await registry.isVerifier(sorted[2].address)).to.equal(false);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 2n]);
    });

    it("refuses a removal that would leave fewer verifiers than the threshold", async function () {
      const { registry, admin, sorted } = await networkHelpers.loadFixture(deployFixture);
      await registry.connect(admin).removeVerifier(sorted[2].address);

      await expect(registry.connect(admin).removeVerifier(sorted[1].address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidThreshold")
        .withArgs(2n, 1n);
      expect(await registry.isVerifier(sorted[1].address)).to.equal(true);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 2n]);
    });

    it("refuses an account that is not a verifier", async function () {
      const { registry, admin, eve } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(admin).removeVerifier(eve.address))
        .to.be.revertedWithCustomError(registry, "MeterRegistryNotAVerifier")
        .withArgs(eve.address);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("refuses anyone but the admin", async function () {
      const { registry, eve, sorted } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(eve).removeVerifier(sorted[0].address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(eve.address, await registry.DEFAULT_ADMIN_ROLE());
      expect(await registry.isVerifier(sorted[0].address)).to.equal(true);
    });

    it("keeps meters activated by the removed verifier active", async function () {
      const { registry, admin, meter, sorted } = await networkHelpers.loadFixture(activeFixture);
      await registry.connect(admin).removeVerifier(sorted[0].address);
      expect(await registry.isActive(meter.address)).to.equal(true);
    });
  });

  describe("setThreshold", function () {
    it("lets the admin set any threshold from one to the verifier count", async function () {
      const { registry, admin } = await networkHelpers.loadFixture(deployFixture);

      await expect(registry.connect(admin).setThreshold(3n))
        .to.emit(registry, "ThresholdChanged")
        .withArgs(3n);
      expect(await registry.verifierPolicy()).to.deep.equal([3n, 3n]);
      await expect(registry.connect(admin).setThreshold(1n))
        .to.emit(registry, "ThresholdChanged")
        .withArgs(1n);
      expect(await registry.verifierPolicy()).to.deep.equal([1n, 3n]);
    });

    it("refuses zero", async function () {
      const { registry, admin } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).setThreshold(0n))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidThreshold")
        .withArgs(0n, 3n);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("refuses more than the number of verifiers", async function () {
      const { registry, admin } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(admin).setThreshold(4n))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidThreshold")
        .withArgs(4n, 3n);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("refuses a threshold that would be truncated to a valid one", async function () {
      const { registry, admin } = await networkHelpers.loadFixture(deployFixture);
      const wraps = 2n ** 32n + 1n;
      await expect(registry.connect(admin).setThreshold(wraps))
        .to.be.revertedWithCustomError(registry, "MeterRegistryInvalidThreshold")
        .withArgs(wraps, 3n);
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });

    it("refuses anyone but the admin", async function () {
      const { registry, alice } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(alice).setThreshold(1n))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await registry.DEFAULT_ADMIN_ROLE());
      expect(await registry.verifierPolicy()).to.deep.equal([2n, 3n]);
    });
  });
});
