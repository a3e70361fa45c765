import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DeviceIdentity } from "../client/deviceIdentity.js";
import { unmarshal } from "../marshal.js";
import { deviceIdOf, signDeviceMessage, generateDeviceKeyPair } from "../protocol/ed25519.js";
import { toHex } from "../protocol/hex.js";
import { documentHash } from "../protocol/identityDocument.js";
import { provisionMessage } from "../protocol/messages.js";
import {
  assertRefused,
  ATTRIBUTES,
  newFixture,
  provisioned,
  randomMeter,
  sealedDevice,
  sealOnly,
  UTILITY,
  type Fixture,
} from "../testing/secureIdFixture.js";

/** Provision arguments signed by `device` for `owner`, with overrides applied after signing. */
function provisionArgs(device: DeviceIdentity, meter: string, owner = UTILITY) {
  const attributesHash = documentHash(device.document({ meter, ownerMsp: owner, attributes: ATTRIBUTES }));
  const signature = device.sign(
    provisionMessage({
      deviceId: device.deviceId,
      publicKey: device.publicKey,
      meter,
      attributesHash,
      ownerMsp: owner,
    }),
  );
  return { deviceId: device.deviceId, publicKey: device.publicKey, meter, attributesHash, signature };
}

async function eventsOf(fx: Fixture) {
  const events = await fx.ledger.events({ asOrg: UTILITY });
  const out: { name: string; payload: unknown; txId: string }[] = [];
  const height = fx.ledger.height();
  if (height > 0n) {
    for await (const e of events) {
      out.push({ name: e.name, payload: unmarshal(e.payload, e.name), txId: e.txId });
      if (e.blockNumber === height) break;
    }
  }
  events.close();
  return out;
}

describe("RegisterVerifierOrg", () => {
  it("records the submitting organisation and its attestation signer, and refuses a bad address", async () => {
    const fx = await newFixture();
    const orgs = await fx.client(UTILITY).getVerifierOrgs();
    assert.deepEqual(
      orgs.map((o) => [o.mspId, o.attestationSigner]),
      [...fx.verifierWallets].map(([org, wallet]) => [org, wallet.address.toLowerCase()]),
    );
    await assertRefused(
      fx,
      () => fx.client("Verifier1MSP").registerVerifierOrg("0x1234"),
      "SecureIdInvalidArgument",
      /attestationSigner/,
    );
  });
});

describe("ProvisionIdentity", () => {
  it("registers the device under the submitter's organisation and emits IdentityProvisioned", async () => {
    const fx = await newFixture();
    const { device, identity, meter, txId, document } = await provisioned(fx);
    assert.equal(identity.deviceId, device.deviceId);
    assert.equal(identity.ownerMsp, UTILITY);
    assert.equal(identity.status, "active");
    assert.equal(identity.attributesHash, documentHash(document));
    assert.equal(identity.provisionedAt, "2026-03-01T12:00:00.000Z");
    assert.equal(identity.provisionTxId, txId);
    assert.deepEqual(await fx.client("Verifier2MSP").getIdentity(device.deviceId), identity);
    const last = (await eventsOf(fx)).at(-1);
    assert.deepEqual(last, {
      name: "IdentityProvisioned",
      payload: {
        attributesHash: identity.attributesHash,
        deviceId: device.deviceId,
        meter,
        ownerMsp: UTILITY,
      },
      txId,
    });
  });

  it("refuses a signature made for another owner, a forged one, and a device id that is not the key's hash", async () => {
    const fx = await newFixture();
    const device = DeviceIdentity.generate();
    const meter = randomMeter();
    const forOther = provisionArgs(device, meter, "Verifier1MSP");
    await assertRefused(
      fx,
      () => fx.client(UTILITY).provisionIdentity(forOther),
      "SecureIdBadSignature",
      /owner UtilityMSP/,
    );
    const args = provisionArgs(device, meter);
    const forger = generateDeviceKeyPair();
    const forged = signDeviceMessage(forger.privateKey, provisionMessage({ ...args, ownerMsp: UTILITY }));
    await assertRefused(
      fx,
      () => fx.client(UTILITY).provisionIdentity({ ...args, signature: forged }),
      "SecureIdBadSignature",
    );
    const otherId = deviceIdOf(forger.publicKey);
    await assertRefused(
      fx,
      () => fx.client(UTILITY).provisionIdentity({ ...args, deviceId: otherId }),
      "SecureIdDeviceIdMismatch",
      new RegExp(`deviceId ${otherId} is not sha256 of public key`),
    );
    await assertRefused(
      fx,
      () => fx.client(UTILITY).provisionIdentity({ ...args, meter: meter.toUpperCase().replace("0X", "0x") }),
      "SecureIdInvalidArgument",
      /meter: expected a lower-case 0x Ethereum address/,
    );
  });

  it("refuses a duplicate device and a meter bound to a live identity, and frees the meter on revocation", async () => {
    const fx = await newFixture();
    const { device, meter } = await provisioned(fx);
    await assertRefused(
      fx,
      () => fx.client(UTILITY).provisionIdentity(provisionArgs(device, randomMeter())),
      "SecureIdDeviceExists",
      /already provisioned \(active\)/,
    );
    const second = DeviceIdentity.generate();
    await assertRefused(
      fx,
      () => fx.client(UTILITY).provisionIdentity(provisionArgs(second, meter)),
      "SecureIdMeterBound",
      new RegExp(`meter ${meter} is bound to live device ${device.deviceId}`),
    );
    await device.revoke(fx.client(UTILITY), "replaced");
    const { identity } = await provisioned(fx, second, meter);
    assert.equal(identity.meter, meter);
  });
});

describe("RevokeIdentity", () => {
  it("accepts the device's signature from any organisation, or the owner organisation without one", async () => {
    const fx = await newFixture();
    const a = await provisioned(fx);
    const revoked = await a.device.revoke(fx.client("Verifier3MSP"), "key exposed");
    assert.equal(revoked.status, "revoked");
    assert.deepEqual(
      { ...revoked.revocation, txId: "" },
      { reason: "key exposed", by: "device", at: "2026-03-01T12:00:00.000Z", txId: "" },
    );
    const b = await provisioned(fx);
    const byOwner = await fx.client(UTILITY).revokeIdentity(b.device.deviceId, "meter removed");
    assert.equal(byOwner.value.revocation?.by, "owner");
  });

  it("refuses another organisation without the device's signature, a forged signature and a second revocation", async () => {
    const fx = await newFixture();
    const { device } = await provisioned(fx);
    await assertRefused(
      fx,
      () => fx.client("Verifier1MSP").revokeIdentity(device.deviceId, "spite"),
      "SecureIdUnauthorized",
      /Verifier1MSP may not revoke .* without its signature \(owner UtilityMSP\)/,
    );
    const other = DeviceIdentity.generate();
    const forged = other.sign({
      type: "gridmesh.secureid.v1.revoke",
      deviceId: device.deviceId,
      reason: "x",
    });
    await assertRefused(
      fx,
      () => fx.client("Verifier1MSP").revokeIdentity(device.deviceId, "x", forged),
      "SecureIdBadSignature",
    );
    await device.revoke(fx.client(UTILITY), "first");
    await assertRefused(fx, () => device.revoke(fx.client(UTILITY), "second"), "SecureIdAlreadyRevoked");
    await assertRefused(
      fx,
      () => fx.client(UTILITY).revokeIdentity(`0x${"00".repeat(32)}`, "x"),
      "SecureIdDeviceNotFound",
    );
  });

  it("stops a revoked device from being sealed again", async () => {
    const fx = await newFixture();
    const { device, document } = await provisioned(fx);
    await device.revoke(fx.client(UTILITY), "stolen");
    await assertRefused(
      fx,
      () => sealOnly(fx, device, document),
      "SecureIdDeviceRevoked",
      /was revoked at .*\(stolen\)/,
    );
  });
});

describe("DeregisterIdentity and GetIdentityHistory", () => {
  it("removes the identity, keeps its history newest first, frees the meter and retires the key", async () => {
    const fx = await newFixture();
    const { device, meter, txId: provisionTx } = await sealedDevice(fx);
    fx.advance(60_000);
    const deregisterTx = await device.deregister(fx.client(UTILITY));
    await assertRefused(fx, () => fx.client(UTILITY).getIdentity(device.deviceId), "SecureIdDeviceNotFound");
    const history = await fx.client("Verifier2MSP").getIdentityHistory(device.deviceId);
    assert.deepEqual(
      history.map((h) => [h.isDelete, h.record?.seal ? "sealed" : h.record ? "provisioned" : null]),
      [
        [true, null],
        [false, "sealed"],
        [false, "provisioned"],
      ],
    );
    assert.equal(history[0]!.txId, deregisterTx);
    assert.equal(history[0]!.timestamp, "2026-03-01T12:01:00.000Z");
    assert.equal(history.at(-1)!.txId, provisionTx);
    await assertRefused(fx, () => provisioned(fx, device), "SecureIdDeviceRetired", /was deregistered/);
    await provisioned(fx, DeviceIdentity.generate(), meter);
  });

  it("needs the device's signature unless the owner organisation asks", async () => {
    const fx = await newFixture();
    const { device } = await provisioned(fx);
    await assertRefused(
      fx,
      () => fx.client("Verifier2MSP").deregisterIdentity(device.deviceId),
      "SecureIdUnauthorized",
    );
    await fx.client(UTILITY).deregisterIdentity(device.deviceId);
    await assertRefused(
      fx,
      () => fx.client(UTILITY).deregisterIdentity(device.deviceId),
      "SecureIdDeviceNotFound",
    );
  });
});

describe("the chaincode's dispatch", () => {
  it("answers unknown functions and wrong argument counts as fabric-contract-api does", async () => {
    const fx = await newFixture();
    await assert.rejects(
      fx.ledger.evaluate("NoSuchThing", [], { asOrg: UTILITY }),
      /You've asked to invoke a function that does not exist: NoSuchThing/,
    );
    await assert.rejects(
      fx.ledger.evaluate("GetIdentity", [], { asOrg: UTILITY }),
      /Expected 1 parameters, but 0 have been supplied/,
    );
    await assert.rejects(
      fx.ledger.evaluate("Other:GetIdentity", ["x"], { asOrg: UTILITY }),
      /Contract name is not known: Other/,
    );
    const key = toHex(generateDeviceKeyPair().publicKey);
    await assert.rejects(
      fx.ledger.evaluate("SecureId:GetIdentity", [deviceIdOf(key)], { asOrg: UTILITY }),
      /SecureIdDeviceNotFound/,
    );
  });
});
