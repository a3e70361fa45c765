import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";

import nacl from "tweetnacl";

import type { DeviceIdentity } from "../client/deviceIdentity.js";
import { unmarshal } from "../marshal.js";
import { openDocument } from "../protocol/documentBox.js";
import { toHex, fromHex } from "../protocol/hex.js";
import { parseDocument } from "../protocol/identityDocument.js";
import { challengeMessage, verifyMessage } from "../protocol/messages.js";
import { openRelease } from "../protocol/releaseBox.js";
import { combineShards } from "../protocol/shards.js";
import {
  assertRefused,
  deposit,
  newFixture,
  provisioned,
  sealedDevice,
  sealOnly,
  UTILITY,
  type Fixture,
} from "../testing/secureIdFixture.js";

interface OpenRequest {
  requestId: string;
  challenge: string;
  recipient: nacl.BoxKeyPair;
  epoch: number;
}

function consentArgs(device: DeviceIdentity, r: OpenRequest, requesterMsp = UTILITY) {
  const recipientKey = toHex(r.recipient.publicKey);
  const fields = {
    requestId: r.requestId,
    deviceId: device.deviceId,
    epoch: r.epoch,
    challenge: r.challenge,
    recipientKey,
  };
  return { ...fields, consentSignature: device.sign(verifyMessage({ ...fields, requesterMsp })) };
}

function newRequest(epoch = 1): OpenRequest {
  return {
    requestId: toHex(randomBytes(16)),
    challenge: toHex(randomBytes(32)),
    recipient: nacl.box.keyPair(),
    epoch,
  };
}

async function openRequest(
  fx: Fixture,
  device: DeviceIdentity,
  epoch = 1,
  requester = UTILITY,
): Promise<OpenRequest> {
  const r = newRequest(epoch);
  await fx.client(requester).requestVerification(consentArgs(device, r, requester));
  return r;
}

const respond = (device: DeviceIdentity, r: OpenRequest) =>
  device.sign(
    challengeMessage({ requestId: r.requestId, deviceId: device.deviceId, challenge: r.challenge }),
  );

describe("Keychecker on the ledger", () => {
  it("provision → seal → deposits → request → k releases → verdict, with the document really decrypted", async () => {
    const fx = await newFixture();
    const { device, identity, material } = await sealedDevice(fx);
    const r = await openRequest(fx, device);
    const request = await fx.client(UTILITY).getRequest(r.requestId);
    assert.deepEqual(
      [request.status, request.requesterMsp, request.epoch, request.expiresAt],
      ["open", UTILITY, 1, "2026-03-01T12:05:00.000Z"],
    );
    const before = fx.snapshot();
    const released = await Promise.all(
      ["Verifier1MSP", "Verifier3MSP"].map(async (org) => {
        const sealed = await fx.client(UTILITY).releaseShard(r.requestId, org);
        const payload = openRelease(sealed, r.recipient.secretKey, {
          requestId: r.requestId,
          deviceId: device.deviceId,
          verifierMsp: org,
        });
        return { ...payload, source: org };
      }),
    );
    assert.equal(fx.snapshot(), before, "releases are evaluations: nothing is written");
    assert.deepEqual(
      released.map((s) => s.index),
      [0, 2],
    );
    const key = await combineShards(released, identity.seal?.commitments ?? material.commitments, material.k);
    const { hash, document } = parseDocument(
      openDocument(fromHex(released[0]!.ciphertext, "ciphertext"), key),
    );
    assert.equal(hash, identity.attributesHash);
    assert.equal(document.deviceId, device.deviceId);
    const { value: verdict, txId } = await fx
      .client(UTILITY)
      .recordVerdict(
        r.requestId,
        { ok: true, reason: "verified", documentHash: hash, shardIndices: [0, 2] },
        respond(device, r),
      );
    assert.equal(verdict.verdictTxId, `0x${txId}`);
    assert.match(verdict.verdictTxId, /^0x[0-9a-f]{64}$/);
    assert.equal(verdict.meter, identity.meter);
    assert.deepEqual(await fx.client("Verifier2MSP").getVerdict(r.requestId), verdict);
    const closed = await fx.client(UTILITY).getRequest(r.requestId);
    assert.deepEqual([closed.status, closed.verdictTxId], ["verified", verdict.verdictTxId]);
    const events = await fx.ledger.events({ asOrg: "Verifier1MSP", startBlock: fx.ledger.height() });
    for await (const event of events) {
      assert.equal(event.name, "VerdictRecorded");
      assert.deepEqual(unmarshal(event.payload, "event"), {
        deviceId: device.deviceId,
        ok: true,
        requestId: r.requestId,
        requesterMsp: UTILITY,
        verdictTxId: verdict.verdictTxId,
      });
      break;
    }
    events.close();
  });

  describe("RequestVerification", () => {
    it("refuses forged or misdirected consent, a wrong epoch, and reused request ids or challenges", async () => {
      const fx = await newFixture();
      const { device } = await sealedDevice(fx);
      const other = (await provisioned(fx)).device;
      const request = (args: ReturnType<typeof consentArgs>, as = UTILITY) =>
        fx.client(as).requestVerification(args);
      const r = newRequest();
      await assertRefused(
        fx,
        () =>
          request({ ...consentArgs(device, r), consentSignature: consentArgs(other, r).consentSignature }),
        "SecureIdBadSignature",
        /consent of .* by UtilityMSP is invalid/,
      );
      // Consent given to the utility does not let another organisation ask.
      await assertRefused(
        fx,
        () => request(consentArgs(device, r), "Verifier1MSP"),
        "SecureIdBadSignature",
        /by Verifier1MSP/,
      );
      await assertRefused(
        fx,
        () => request(consentArgs(device, { ...r, epoch: 2 })),
        "SecureIdEpochMismatch",
        /request for epoch 2, but .* sealed at epoch 1/,
      );
      await request(consentArgs(device, r));
      await assertRefused(
        fx,
        () => request(consentArgs(device, { ...newRequest(), requestId: r.requestId })),
        "SecureIdRequestExists",
      );
      await assertRefused(
        fx,
        () => request(consentArgs(device, { ...newRequest(), challenge: r.challenge })),
        "SecureIdChallengeReused",
      );
      await assertRefused(
        fx,
        () => request(consentArgs(device, { ...newRequest(), challenge: r.challenge.toUpperCase() })),
        "SecureIdInvalidArgument",
        /challenge/,
      );
      await assertRefused(fx, () => request(consentArgs(other, newRequest())), "SecureIdNotSealed");
      await device.revoke(fx.client(UTILITY), "stolen");
      await assertRefused(fx, () => request(consentArgs(device, newRequest())), "SecureIdDeviceRevoked");
    });
  });

  describe("ReleaseShard", () => {
    it("releases only to the requester's organisation, only from an organisation holding a shard", async () => {
      const fx = await newFixture();
      const { device } = await sealedDevice(fx);
      const r = await openRequest(fx, device);
      await assertRefused(
        fx,
        () => fx.client("Verifier2MSP").releaseShard(r.requestId, "Verifier1MSP"),
        "SecureIdNotRequester",
        /Verifier2MSP may not release a shard for request .*: only its requester UtilityMSP may/,
      );
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(r.requestId, "Verifier4MSP"),
        "SecureIdNoShardHeld",
        /Verifier4MSP is not a verifier/,
      );
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard("no-such-request", "Verifier1MSP"),
        "SecureIdRequestNotFound",
      );
      const sealed = await fx.client(UTILITY).releaseShard(r.requestId, "Verifier1MSP");
      assert.throws(
        () =>
          openRelease(sealed, nacl.box.keyPair().secretKey, {
            requestId: r.requestId,
            deviceId: device.deviceId,
            verifierMsp: "Verifier1MSP",
          }),
        /does not open with our key/,
      );
    });

    it("refuses a verifier that has not deposited, and a shard of an earlier epoch after re-keying", async () => {
      const fx = await newFixture();
      const { device, document } = await provisioned(fx);
      const first = await sealOnly(fx, device, document);
      await deposit(fx, device.deviceId, first, 0);
      const r1 = await openRequest(fx, device);
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(r1.requestId, "Verifier2MSP"),
        "SecureIdNoShardHeld",
        /holds no deposited shard/,
      );
      const second = await sealOnly(fx, device, document, { epoch: 2 });
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(r1.requestId, "Verifier1MSP"),
        "SecureIdEpochMismatch",
        /is for epoch 1, .* now sealed at epoch 2/,
      );
      const r2 = await openRequest(fx, device, 2);
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(r2.requestId, "Verifier1MSP"),
        "SecureIdEpochMismatch",
        /holds shard 0 of epoch 1, the seal is epoch 2/,
      );
      await deposit(fx, device.deviceId, second, 0);
      await fx.client(UTILITY).releaseShard(r2.requestId, "Verifier1MSP");
    });

    it("refuses after the request expired, closed, or the device was revoked", async () => {
      const fx = await newFixture();
      const { device } = await sealedDevice(fx);
      const expired = await openRequest(fx, device);
      fx.advance(301_000);
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(expired.requestId, "Verifier1MSP"),
        "SecureIdRequestExpired",
        /expired at 2026-03-01T12:05:00.000Z/,
      );
      const closed = await openRequest(fx, device);
      await fx
        .client(UTILITY)
        .recordVerdict(
          closed.requestId,
          { ok: false, reason: "gave up", documentHash: null, shardIndices: [] },
          "",
        );
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(closed.requestId, "Verifier1MSP"),
        "SecureIdRequestClosed",
        /closed \(failed\)/,
      );
      const open = await openRequest(fx, device);
      await device.revoke(fx.client(UTILITY), "stolen");
      await assertRefused(
        fx,
        () => fx.client(UTILITY).releaseShard(open.requestId, "Verifier1MSP"),
        "SecureIdDeviceRevoked",
      );
    });
  });

  describe("RecordVerdict", () => {
    it("refuses too few or bad shard indices and a document hash other than the registered one", async () => {
      const fx = await newFixture();
      const { device, identity } = await sealedDevice(fx);
      const r = await openRequest(fx, device);
      const record = (indices: number[], documentHash = identity.attributesHash) =>
        fx
          .client(UTILITY)
          .recordVerdict(
            r.requestId,
            { ok: true, reason: "", documentHash, shardIndices: indices },
            respond(device, r),
          );
      await assertRefused(
        fx,
        () => record([1]),
        "SecureIdBadShardIndices",
        /1 shard\(s\) cannot meet the threshold k=2/,
      );
      await assertRefused(
        fx,
        () => record([1, 1]),
        "SecureIdBadShardIndices",
        /must be distinct and below n=3/,
      );
      await assertRefused(fx, () => record([0, 3]), "SecureIdBadShardIndices");
      await assertRefused(
        fx,
        () => record([0, 1], "ee".repeat(32)),
        "SecureIdDocumentMismatch",
        new RegExp(`is not the registered ${identity.attributesHash}`),
      );
      await record([0, 1]);
    });

    it("refuses a replayed, forged or misused challenge response", async () => {
      const fx = await newFixture();
      const { device, identity } = await sealedDevice(fx);
      const other = (await provisioned(fx)).device;
      const first = await openRequest(fx, device);
      const ok = { ok: true, reason: "", documentHash: identity.attributesHash, shardIndices: [0, 1] };
      await fx.client(UTILITY).recordVerdict(first.requestId, ok, respond(device, first));
      const second = await openRequest(fx, device);
      const record = (response: string) => fx.client(UTILITY).recordVerdict(second.requestId, ok, response);
      await assertRefused(
        fx,
        () => record(respond(device, first)),
        "SecureIdBadChallengeResponse",
        /over challenge .* of request/,
      );
      await assertRefused(
        fx,
        () =>
          record(
            other.sign(
              challengeMessage({
                requestId: second.requestId,
                deviceId: device.deviceId,
                challenge: second.challenge,
              }),
            ),
          ),
        "SecureIdBadChallengeResponse",
      );
      await assertRefused(
        fx,
        () => record(consentArgs(device, second).consentSignature),
        "SecureIdBadChallengeResponse",
      );
      await assertRefused(fx, () => record(""), "SecureIdBadChallengeResponse");
      await record(respond(device, second));
    });

    it("lets only the requester record, once, before expiry; a revoked device gets no successful verdict", async () => {
      const fx = await newFixture();
      const { device, identity } = await sealedDevice(fx);
      const ok = { ok: true, reason: "", documentHash: identity.attributesHash, shardIndices: [0, 1] };
      const r = await openRequest(fx, device);
      await assertRefused(
        fx,
        () => fx.client("Verifier1MSP").recordVerdict(r.requestId, ok, respond(device, r)),
        "SecureIdNotRequester",
      );
      await fx.client(UTILITY).recordVerdict(r.requestId, ok, respond(device, r));
      await assertRefused(
        fx,
        () => fx.client(UTILITY).recordVerdict(r.requestId, ok, respond(device, r)),
        "SecureIdRequestClosed",
        /closed \(verified\)/,
      );
      const late = await openRequest(fx, device);
      fx.advance(300_000);
      await fx.client(UTILITY).getRequest(late.requestId);
      fx.advance(1_000);
      await assertRefused(
        fx,
        () => fx.client(UTILITY).recordVerdict(late.requestId, ok, respond(device, late)),
        "SecureIdRequestExpired",
      );
      const revoked = await openRequest(fx, device);
      await device.revoke(fx.client(UTILITY), "stolen");
      await assertRefused(
        fx,
        () => fx.client(UTILITY).recordVerdict(revoked.requestId, ok, respond(device, revoked)),
        "SecureIdDeviceRevoked",
      );
      const failed = await fx
        .client(UTILITY)
        .recordVerdict(
          revoked.requestId,
          { ok: false, reason: "device revoked", documentHash: null, shardIndices: [] },
          "",
        );
      assert.equal(failed.value.ok, false);
      assert.equal((await fx.client(UTILITY).getRequest(revoked.requestId)).status, "failed");
      await assertRefused(
        fx,
        () => fx.client(UTILITY).getVerdict("no-verdict-here"),
        "SecureIdVerdictNotFound",
      );
    });
  });
});
