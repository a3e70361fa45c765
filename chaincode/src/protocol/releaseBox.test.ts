import assert from "node:assert/strict";
import { describe, it } from "node:test";

import nacl from "tweetnacl";

import { documentBytes, documentHash, identityDocumentSchema, parseDocument } from "./identityDocument.js";
import { openRelease, sealRelease, type ReleasePayload } from "./releaseBox.js";
import { toHex } from "./hex.js";

const payload: ReleasePayload = {
  requestId: "request-0001",
  deviceId: `0x${"11".repeat(32)}`,
  epoch: 2,
  verifierMsp: "Verifier2MSP",
  index: 1,
  shard: "aa".repeat(33),
  salt: "bb".repeat(32),
  ciphertext: "cc".repeat(80),
};
const expected = { requestId: payload.requestId, deviceId: payload.deviceId, verifierMsp: "Verifier2MSP" };

describe("shard release sealing", () => {
  const recipient = nacl.box.keyPair();
  const recipientKey = toHex(recipient.publicKey);

  it("opens only with the recipient's key, and is deterministic per transaction", () => {
    const sealed = sealRelease(payload, recipientKey, "f".repeat(64));
    assert.deepEqual(openRelease(sealed, recipient.secretKey, expected), payload);
    assert.deepEqual(
      sealRelease(payload, recipientKey, "f".repeat(64)),
      sealed,
      "same inputs, same bytes on every peer",
    );
    const other = sealRelease(payload, recipientKey, "e".repeat(64));
    assert.notEqual(other.nonce, sealed.nonce);
    assert.notEqual(other.ephemeralKey, sealed.ephemeralKey);
    assert.ok(!sealed.box.includes(payload.shard), "the shard is not in clear");
    assert.throws(
      () => openRelease(sealed, nacl.box.keyPair().secretKey, expected),
      /SecureIdBadRelease: .* does not open/,
    );
  });

  it("refuses a release for another request, device or verifier", () => {
    const sealed = sealRelease(payload, recipientKey, "f".repeat(64));
    assert.throws(
      () => openRelease(sealed, recipient.secretKey, { ...expected, requestId: "request-0002" }),
      /is for request request-0001/,
    );
    assert.throws(
      () => openRelease(sealed, recipient.secretKey, { ...expected, verifierMsp: "Verifier3MSP" }),
      /SecureIdBadRelease/,
    );
    assert.throws(() => openRelease({ ...sealed, index: 0 }, recipient.secretKey, expected), /index 1/);
  });
});

describe("identity document", () => {
  const document = identityDocumentSchema.parse({
    deviceId: `0x${"11".repeat(32)}`,
    publicKey: "22".repeat(32),
    meter: `0x${"33".repeat(20)}`,
    ownerMsp: "UtilityMSP",
    attributes: { manufacturer: "Eastron", model: "SDM630", serial: "42", firmware: "1.2" },
  });

  it("hashes canonical bytes, so a re-encoded document no longer matches the registered hash", () => {
    const canonical = parseDocument(documentBytes(document));
    assert.equal(canonical.hash, documentHash(document));
    assert.deepEqual(canonical.document, document);
    // Insertion order, not sorted: the same content, other bytes.
    const reencoded = parseDocument(new TextEncoder().encode(JSON.stringify(document)));
    assert.deepEqual(reencoded.document, document);
    assert.notEqual(reencoded.hash, documentHash(document));
  });

  it("refuses documents missing attributes or with extra fields", () => {
    assert.throws(() =>
      identityDocumentSchema.parse({ ...document, attributes: { manufacturer: "x", model: "y" } }),
    );
    assert.throws(() => identityDocumentSchema.parse({ ...document, extra: 1 }));
    assert.throws(() => identityDocumentSchema.parse({ ...document, meter: document.meter.toUpperCase() }));
  });
});
