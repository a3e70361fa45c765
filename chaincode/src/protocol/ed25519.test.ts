import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";

import {
  deviceIdOf,
  deviceKeyPairFromSeed,
  generateDeviceKeyPair,
  signDeviceMessage,
  verifyDeviceMessage,
} from "./ed25519.js";
import { toHex } from "./hex.js";
import {
  challengeMessage,
  messageBytes,
  MESSAGE_TYPES,
  revokeMessage,
  verifyMessage,
  type DeviceMessage,
} from "./messages.js";

const hex32 = (byte: string) => byte.repeat(32);

describe("device keys and signatures", () => {
  const keys = generateDeviceKeyPair();
  const publicKey = toHex(keys.publicKey);
  const deviceId = deviceIdOf(keys.publicKey);
  const consent = verifyMessage({
    requestId: "request-0001",
    deviceId,
    epoch: 1,
    challenge: hex32("ab"),
    requesterMsp: "UtilityMSP",
    recipientKey: hex32("cd"),
  });

  it("derives the device id as 0x + sha256 of the raw public key", () => {
    const expected = `0x${createHash("sha256").update(keys.publicKey).digest("hex")}`;
    assert.equal(deviceId, expected);
    assert.equal(deviceIdOf(publicKey), expected);
    assert.match(deviceId, /^0x[0-9a-f]{64}$/);
  });

  it("round-trips a signature and survives export and import of the raw key", () => {
    const signature = signDeviceMessage(keys.privateKey, consent);
    assert.match(signature, /^[0-9a-f]{128}$/);
    assert.ok(verifyDeviceMessage(publicKey, consent, signature));
    const restored = deviceKeyPairFromSeed(keys.privateKey);
    assert.deepEqual(restored.publicKey, keys.publicKey);
    assert.equal(signDeviceMessage(restored.privateKey, consent), signature, "ed25519 is deterministic");
  });

  it("signs canonical JSON, so field order does not matter", () => {
    const reordered = Object.fromEntries(Object.entries(consent).reverse()) as DeviceMessage;
    assert.deepEqual(messageBytes(reordered), messageBytes(consent));
    assert.ok(verifyDeviceMessage(publicKey, reordered, signDeviceMessage(keys.privateKey, consent)));
  });

  it("refuses a changed field, another key and malformed input", () => {
    const signature = signDeviceMessage(keys.privateKey, consent);
    assert.equal(
      verifyDeviceMessage(publicKey, { ...consent, requesterMsp: "Verifier1MSP" }, signature),
      false,
    );
    assert.equal(verifyDeviceMessage(publicKey, { ...consent, epoch: 2 }, signature), false);
    assert.equal(verifyDeviceMessage(toHex(generateDeviceKeyPair().publicKey), consent, signature), false);
    assert.equal(verifyDeviceMessage(publicKey, consent, signature.slice(2)), false);
    assert.equal(verifyDeviceMessage(publicKey, consent, signature.toUpperCase()), false);
    assert.equal(verifyDeviceMessage("00", consent, signature), false);
  });

  it("separates purposes: a signature for one message type never verifies as another", () => {
    const challenge = challengeMessage({
      requestId: consent.requestId,
      deviceId,
      challenge: consent.challenge,
    });
    const asChallenge = signDeviceMessage(keys.privateKey, challenge);
    assert.ok(verifyDeviceMessage(publicKey, challenge, asChallenge));
    // The same fields under the consent's type, and the other way round.
    assert.equal(
      verifyDeviceMessage(
        publicKey,
        { ...challenge, type: MESSAGE_TYPES.verify } as DeviceMessage,
        asChallenge,
      ),
      false,
    );
    assert.equal(
      verifyDeviceMessage(publicKey, challenge, signDeviceMessage(keys.privateKey, consent)),
      false,
    );
    const revoke = revokeMessage({ deviceId, reason: "" });
    assert.equal(
      verifyDeviceMessage(
        publicKey,
        { ...revoke, type: MESSAGE_TYPES.deregister },
        signDeviceMessage(keys.privateKey, revoke),
      ),
      false,
    );
    assert.equal(new Set(Object.values(MESSAGE_TYPES)).size, Object.keys(MESSAGE_TYPES).length);
  });

  it("refuses a private key that is not 32 bytes", () => {
    assert.throws(() => deviceKeyPairFromSeed(new Uint8Array(31)), /32 bytes, not 31/);
  });
});
