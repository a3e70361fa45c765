import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { unmarshal } from "../marshal.js";
import { DEPOSIT_TRANSIENT_KEY, depositRecordSchema } from "../protocol/records.js";
import { sealMessage } from "../protocol/messages.js";
import { toHex } from "../protocol/hex.js";
import { implicitCollection } from "./keys.js";
import {
  assertRefused,
  deposit,
  newFixture,
  provisioned,
  SEAL_VERIFIERS,
  sealOnly,
  UTILITY,
  type Fixture,
} from "../testing/secureIdFixture.js";

/** SealIdentity arguments for `device`, signed over the given values, then overridden. */
function sealArgs(
  device: Awaited<ReturnType<typeof provisioned>>["device"],
  values: { commitments: string[]; verifiers: string[]; k: number; epoch: number },
  override: Partial<{ commitments: string[]; verifiers: string[]; k: number; epoch: number }> = {},
) {
  const ciphertextHash = "ab".repeat(32);
  const signature = device.sign(sealMessage({ deviceId: device.deviceId, ciphertextHash, ...values }));
  return { deviceId: device.deviceId, ciphertextHash, ...values, ...override, signature };
}

/** Fabric's composite key of the shard record, as keys.shard builds it. */
function shardKey(deviceId: string): string {
  return `\x00shard\x00${deviceId}\x00`;
}

function privateShard(fx: Fixture, org: string, deviceId: string) {
  const bytes = fx.backend.getPrivate(implicitCollection(org), shardKey(deviceId));
  return bytes && depositRecordSchema.parse(unmarshal(bytes, "deposit"));
}

describe("SealIdentity", () => {
  it("records the policy, ciphertext hash and commitments, and re-keys only with a higher epoch", async () => {
    const fx = await newFixture();
    const { device, document } = await provisioned(fx);
    const first = await sealOnly(fx, device, document, { k: 2 });
    const identity = await fx.client(UTILITY).getIdentity(device.deviceId);
    assert.deepEqual(
      { ...identity.seal, sealedAt: "", txId: "" },
      {
        epoch: 1,
        k: 2,
        n: 3,
        verifiers: SEAL_VERIFIERS,
        commitments: first.commitments,
        ciphertextHash: first.ciphertextHash,
        sealedAt: "",
        txId: "",
      },
    );
    assert.equal(identity.seal?.txId, first.sealTxId);
    await assertRefused(
      fx,
      () => sealOnly(fx, device, document, { epoch: 1 }),
      "SecureIdStaleEpoch",
      /epoch 1 is not above the current seal's epoch 1/,
    );
    const second = await sealOnly(fx, device, document, { epoch: 5, k: 3 });
    assert.equal((await fx.client(UTILITY).getIdentity(device.deviceId)).seal?.epoch, 5);
    assert.notEqual(second.ciphertextHash, first.ciphertextHash);
  });

  it("refuses unknown, repeated or too few verifiers, mismatched commitments and a consent for other values", async () => {
    const fx = await newFixture();
    const { device } = await provisioned(fx);
    const commitments = ["01", "02", "03"].map((b) => b.repeat(32));
    const good = { commitments, verifiers: [...SEAL_VERIFIERS], k: 2, epoch: 1 };
    const seal = (args: ReturnType<typeof sealArgs>) => fx.client(UTILITY).sealIdentity(args);
    await assertRefused(
      fx,
      () => seal(sealArgs(device, { ...good, verifiers: ["Verifier1MSP", "Verifier2MSP", "UtilityMSP"] })),
      "SecureIdUnknownVerifier",
      /UtilityMSP is not a registered verifier organisation/,
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, { ...good, verifiers: ["Verifier1MSP", "Verifier2MSP", "Verifier1MSP"] })),
      "SecureIdBadPolicy",
      /Verifier1MSP is listed twice/,
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, { ...good, k: 4 })),
      "SecureIdBadPolicy",
      /got k=4, n=3/,
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, { ...good, k: 1 })),
      "SecureIdBadPolicy",
      /got k=1, n=3/,
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, { ...good, commitments: commitments.slice(0, 2) })),
      "SecureIdBadPolicy",
      /2 commitments for 3 verifiers/,
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, good, { k: 3 })),
      "SecureIdBadSignature",
      /Keymaker consent .* epoch 1 is invalid/,
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, good, { verifiers: ["Verifier1MSP", "Verifier2MSP", "Verifier4MSP"] })),
      "SecureIdBadSignature",
    );
    await assertRefused(
      fx,
      () => seal(sealArgs(device, { ...good, epoch: 0 })),
      "SecureIdInvalidArgument",
      /epoch: 0 is outside 1\.\./,
    );
  });
});

describe("DepositShard", () => {
  it("stores the shard only in its verifier's implicit collection, never in public state", async () => {
    const fx = await newFixture();
    const { device, document } = await provisioned(fx);
    const material = await sealOnly(fx, device, document);
    const publicBefore = fx.backend.getStateRange("\x00", "");
    const { value, txId } = await deposit(fx, device.deviceId, material, 1);
    assert.deepEqual(value, { deviceId: device.deviceId, epoch: 1, index: 1, verifierMsp: "Verifier2MSP" });
    assert.deepEqual(fx.backend.getStateRange("\x00", ""), publicBefore, "a deposit writes no public state");
    const stored = privateShard(fx, "Verifier2MSP", device.deviceId);
    assert.deepEqual(
      { shard: stored?.shard, salt: stored?.salt, ciphertext: stored?.ciphertext, txId: stored?.txId },
      {
        shard: material.shards[1]!.shard,
        salt: material.shards[1]!.salt,
        ciphertext: toHex(material.sealed),
        txId,
      },
    );
    assert.equal(privateShard(fx, "Verifier1MSP", device.deviceId), undefined);
    const { private: _private, ...publicPart } = JSON.parse(fx.snapshot()) as Record<string, unknown>;
    const published = JSON.stringify(publicPart);
    for (const shard of material.shards) {
      assert.ok(
        !published.includes(shard.shard) && !published.includes(shard.salt),
        "no shard in public state or events",
      );
    }
  });

  it("refuses a wrong shard, a tampered ciphertext, a wrong epoch and missing transient data", async () => {
    const fx = await newFixture();
    const { device, document } = await provisioned(fx);
    const m = await sealOnly(fx, device, document);
    const send = (
      index: number,
      body: Record<string, unknown>,
      epoch = m.epoch,
      endorser = m.verifiers[index]!,
    ) =>
      fx.ledger.submit("DepositShard", [device.deviceId, String(epoch)], {
        asOrg: UTILITY,
        endorsingOrgs: [endorser],
        transient: { [DEPOSIT_TRANSIENT_KEY]: new TextEncoder().encode(JSON.stringify(body)) },
      });
    const ciphertext = toHex(m.sealed);
    const good = (i: number) => ({ shard: m.shards[i]!.shard, salt: m.shards[i]!.salt, ciphertext });
    await assertRefused(
      fx,
      () => send(0, good(1)),
      "SecureIdCommitmentMismatch",
      /shard 0 for Verifier1MSP hashes to/,
    );
    const flipped = Buffer.from(m.sealed);
    flipped[40]! ^= 1;
    await assertRefused(
      fx,
      () => send(0, { ...good(0), ciphertext: flipped.toString("hex") }),
      "SecureIdCiphertextMismatch",
      new RegExp(`the seal has ${m.ciphertextHash}`),
    );
    await assertRefused(
      fx,
      () => send(0, good(0), 2),
      "SecureIdEpochMismatch",
      /deposit for epoch 2, but .* sealed at epoch 1/,
    );
    await assertRefused(
      fx,
      () => send(0, { ...good(0), extra: 1 }),
      "SecureIdInvalidArgument",
      /transient deposit/,
    );
    await assertRefused(
      fx,
      () =>
        fx.ledger.submit("DepositShard", [device.deviceId, "1"], {
          asOrg: UTILITY,
          endorsingOrgs: ["Verifier1MSP"],
        }),
      "SecureIdMissingTransient",
    );
  });

  it("refuses to run on a peer whose organisation holds no shard of the seal", async () => {
    const fx = await newFixture();
    const { device, document } = await provisioned(fx);
    const m = await sealOnly(fx, device, document);
    const body = { shard: m.shards[0]!.shard, salt: m.shards[0]!.salt, ciphertext: toHex(m.sealed) };
    const transient = { [DEPOSIT_TRANSIENT_KEY]: new TextEncoder().encode(JSON.stringify(body)) };
    await assertRefused(
      fx,
      () =>
        fx.ledger.submit("DepositShard", [device.deviceId, "1"], {
          asOrg: UTILITY,
          endorsingOrgs: ["Verifier4MSP"],
          transient,
        }),
      "SecureIdNoShardHeld",
      /Verifier4MSP is not a verifier of .* at epoch 1 \(verifiers Verifier1MSP, Verifier2MSP, Verifier3MSP\)/,
    );
    // Without an explicit endorser the gateway's MAJORITY pick starts with the utility's own peer.
    await assertRefused(
      fx,
      () => fx.ledger.submit("DepositShard", [device.deviceId, "1"], { asOrg: UTILITY, transient }),
      "SecureIdNoShardHeld",
      /UtilityMSP is not a verifier/,
    );
  });

  it("refuses a deposit for an unsealed device", async () => {
    const fx = await newFixture();
    const { device } = await provisioned(fx);
    await assertRefused(
      fx,
      () =>
        fx.ledger.submit("DepositShard", [device.deviceId, "1"], {
          asOrg: UTILITY,
          endorsingOrgs: ["Verifier1MSP"],
        }),
      "SecureIdNotSealed",
    );
  });
});
