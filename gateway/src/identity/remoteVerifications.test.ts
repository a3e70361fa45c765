import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  DeviceIdentity,
  EmbeddedLedger,
  Keychecker,
  SecureIdClient,
  SecureIdLedgerError,
} from "@gridmesh/chaincode/client";
import { Wallet } from "ethers";

import { RemoteVerifications } from "./remoteVerifications.js";

const UTILITY = "UtilityMSP";
const VERIFIERS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];

void describe("RemoteVerifications", () => {
  let ledger: EmbeddedLedger;
  let device: DeviceIdentity;
  const expired: string[] = [];
  const remote = (ttlMs: number, maxPending?: number) =>
    new RemoteVerifications({
      keychecker: new Keychecker(new SecureIdClient(ledger, UTILITY)),
      ttlMs,
      ...(maxPending === undefined ? {} : { maxPending }),
      onExpired: (requestId) => expired.push(requestId),
    });

  before(async () => {
    ledger = new EmbeddedLedger({ orgs: [UTILITY, ...VERIFIERS] });
    for (const org of VERIFIERS) {
      await new SecureIdClient(ledger, org).registerVerifierOrg(Wallet.createRandom().address);
    }
    device = DeviceIdentity.generate();
    const utility = new SecureIdClient(ledger, UTILITY);
    const { document } = await device.provision(utility, {
      meter: Wallet.createRandom().address.toLowerCase(),
      attributes: { manufacturer: "Eastron", model: "SDM630", serial: "R-1" },
    });
    await device.keymaker(utility, { document, verifiers: VERIFIERS, k: 2 });
  });
  after(() => ledger.close());

  void it("runs Keychecker to a recorded verdict on the device's two signatures, once", async () => {
    const verifications = remote(60_000);
    const prepared = await verifications.prepare(device.deviceId);
    assert.deepEqual(prepared.consentMessage, {
      type: "gridmesh.secureid.v1.verify",
      requestId: prepared.requestId,
      deviceId: device.deviceId,
      epoch: 1,
      challenge: prepared.challenge,
      requesterMsp: UTILITY,
      recipientKey: prepared.recipientKey,
    });
    const heightBefore = ledger.height();
    const outcome = await verifications.answer(prepared.requestId, {
      consentSignature: device.sign(prepared.consentMessage),
      challengeSignature: device.sign(prepared.challengeMessage),
    });
    assert.equal(outcome?.ok, true, outcome?.reason);
    assert.equal(ledger.height(), heightBefore + 2n, "RequestVerification and RecordVerdict");
    assert.equal(
      verifications.answer(prepared.requestId, { consentSignature: "", challengeSignature: "" }),
      undefined,
    );
    await verifications.close();
  });

  void it("drops a verification the device does not answer in time, writing nothing", async () => {
    const verifications = remote(50);
    const heightBefore = ledger.height();
    const prepared = await verifications.prepare(device.deviceId);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(expired, [prepared.requestId]);
    assert.equal(verifications.isPending(prepared.requestId), false);
    assert.equal(
      verifications.answer(prepared.requestId, {
        consentSignature: device.sign(prepared.consentMessage),
        challengeSignature: device.sign(prepared.challengeMessage),
      }),
      undefined,
    );
    await verifications.close();
    assert.equal(ledger.height(), heightBefore);
  });

  void it("fails at once for a device the ledger does not know", async () => {
    const verifications = remote(60_000);
    await assert.rejects(verifications.prepare(`0x${"ab".repeat(32)}`), (error: unknown) => {
      assert.ok(error instanceof SecureIdLedgerError);
      assert.equal(error.code, "SecureIdDeviceNotFound");
      return true;
    });
    await verifications.close();
  });

  void it("bounds how many verifications may wait at once", async () => {
    const verifications = remote(60_000, 2);
    await verifications.prepare(device.deviceId);
    await verifications.prepare(device.deviceId);
    await assert.rejects(verifications.prepare(device.deviceId), /2 verifications are already waiting/);
    await verifications.close();
  });

  void it("drops pending verifications on close, writing nothing", async () => {
    const verifications = remote(60_000);
    const heightBefore = ledger.height();
    const prepared = await verifications.prepare(device.deviceId);
    await verifications.close();
    assert.equal(verifications.isPending(prepared.requestId), false);
    assert.equal(ledger.height(), heightBefore);
  });
});
