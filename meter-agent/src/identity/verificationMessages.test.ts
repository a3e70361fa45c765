import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";

import {
  DeviceIdentity,
  MESSAGE_TYPES,
  challengeMessage,
  revokeMessage,
  verifyMessage,
} from "@gridmesh/chaincode/client";

import type { PreparedAnswer } from "./gatewayIdentitySchemas.js";
import { DeviceMessageError } from "./identityErrors.js";
import { checkVerificationMessages, signVerification } from "./verificationMessages.js";

const hex = (n: number) => randomBytes(n).toString("hex");

/** What a gateway's first round trip answers for `deviceId`, as its Keychecker builds it. */
function prepared(deviceId: string, requesterMsp = "UtilityMSP", epoch = 1): PreparedAnswer {
  const fields = {
    requestId: hex(16),
    deviceId,
    epoch,
    challenge: hex(32),
    requesterMsp,
    recipientKey: hex(32),
  };
  return {
    ...fields,
    expiresAt: new Date(Date.now() + 120_000).toISOString(),
    messages: {
      consent: { ...verifyMessage(fields) },
      challenge: {
        ...challengeMessage({ requestId: fields.requestId, deviceId, challenge: fields.challenge }),
      },
    },
  };
}

const expectations = { requesterMsp: "UtilityMSP", epoch: 1 };

describe("verification messages: the device signs only what it checked", () => {
  const device = DeviceIdentity.generate();
  const other = DeviceIdentity.generate();

  it("signs a well-formed request for this device: exactly the protocol's consent and challenge", async () => {
    const request = prepared(device.deviceId);
    const signed = await signVerification(device, request, expectations);
    // ed25519 is deterministic: equal signatures mean the same bytes were signed.
    const { requestId, epoch, challenge, requesterMsp, recipientKey } = request;
    const consent = verifyMessage({
      requestId,
      deviceId: device.deviceId,
      epoch,
      challenge,
      requesterMsp,
      recipientKey,
    });
    assert.equal(signed.consentSignature, device.sign(consent));
    assert.equal(
      signed.challengeSignature,
      device.sign(challengeMessage({ requestId, deviceId: device.deviceId, challenge })),
    );
    assert.equal(signed.consent.type, MESSAGE_TYPES.verify);
    assert.equal(signed.challenge.type, MESSAGE_TYPES.challenge);
  });

  it("refuses a consent or a challenge for another device", async () => {
    const forOther = prepared(other.deviceId);
    await assert.rejects(signVerification(device, forOther, expectations), (e: Error) => {
      assert.ok(e instanceof DeviceMessageError);
      assert.match(
        e.message,
        new RegExp(`consent message is for device ${other.deviceId}, this is ${device.deviceId}`),
      );
      return true;
    });
    // The request claims this device, but the challenge inside is another's.
    const mixed = prepared(device.deviceId);
    mixed.messages.challenge = { ...mixed.messages.challenge, deviceId: other.deviceId };
    assert.throws(
      () => checkVerificationMessages(mixed, { ...expectations, deviceId: device.deviceId }),
      /challenge message is for device 0x[0-9a-f]{64}, this is/,
    );
  });

  it("refuses messages of the wrong type, even when every other field is right", () => {
    const expected = { ...expectations, deviceId: device.deviceId };
    const swapped = prepared(device.deviceId);
    swapped.messages.consent = { ...swapped.messages.consent, type: MESSAGE_TYPES.challenge };
    assert.throws(
      () => checkVerificationMessages(swapped, expected),
      /consent message is of type gridmesh\.secureid\.v1\.challenge/,
    );

    // A revocation dressed as the consent: signing it would revoke the device.
    const revocation = prepared(device.deviceId);
    revocation.messages.consent = { ...revokeMessage({ deviceId: device.deviceId, reason: "stolen" }) };
    assert.throws(
      () => checkVerificationMessages(revocation, expected),
      (e: Error) =>
        e instanceof DeviceMessageError && /of type gridmesh\.secureid\.v1\.revoke, not/.test(e.message),
    );

    const challengeAsConsent = prepared(device.deviceId);
    challengeAsConsent.messages.challenge = { ...challengeAsConsent.messages.consent };
    assert.throws(
      () => checkVerificationMessages(challengeAsConsent, expected),
      /challenge message is of type .*verify/,
    );
  });

  it("refuses extra fields, messages that disagree with the request, another requester or epoch", () => {
    const expected = { ...expectations, deviceId: device.deviceId };
    const extra = prepared(device.deviceId);
    extra.messages.consent = { ...extra.messages.consent, reason: "stolen" };
    assert.throws(() => checkVerificationMessages(extra, expected), /consent message has fields .*reason/);

    const otherChallenge = prepared(device.deviceId);
    otherChallenge.messages.challenge = { ...otherChallenge.messages.challenge, challenge: hex(32) };
    assert.throws(() => checkVerificationMessages(otherChallenge, expected), /another request or challenge/);

    const otherKey = prepared(device.deviceId);
    otherKey.messages.consent = { ...otherKey.messages.consent, recipientKey: hex(32) };
    assert.throws(
      () => checkVerificationMessages(otherKey, expected),
      /consent's recipientKey .* is not the request's/,
    );

    assert.throws(
      () => checkVerificationMessages(prepared(device.deviceId, "Verifier1MSP"), expected),
      /requester is Verifier1MSP; this device consents only to UtilityMSP/,
    );
    assert.throws(
      () => checkVerificationMessages(prepared(device.deviceId, "UtilityMSP", 3), expected),
      /seal epoch 3; this device's seal is epoch 1/,
    );
    // Without a recorded owner or seal (provisioned elsewhere), the request's own fields still bind it.
    assert.doesNotThrow(() =>
      checkVerificationMessages(prepared(device.deviceId, "Verifier1MSP", 3), { deviceId: device.deviceId }),
    );
  });
});
