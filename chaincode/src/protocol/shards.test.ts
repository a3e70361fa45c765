import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";

import { combine } from "shamir-secret-sharing";

import { openDocument, sealDocument } from "./documentBox.js";
import type { SecureIdError } from "./errors.js";
import { shardCommitment } from "./hashing.js";
import { fromHex, toHex } from "./hex.js";
import { combineShards, splitKey, type CommittedShard, type SourcedShard } from "./shards.js";

const from =
  (source: string) =>
  (s: CommittedShard): SourcedShard => ({ ...s, source });
const plaintext = new TextEncoder().encode('{"serial":"SDM-0042"}');

describe("shard commitments", () => {
  it("bind a shard to a fresh salt", () => {
    const shard = new Uint8Array(randomBytes(33));
    const salt = new Uint8Array(randomBytes(32));
    assert.equal(shardCommitment(salt, shard), shardCommitment(salt, new Uint8Array(shard)));
    assert.notEqual(shardCommitment(salt, shard), shardCommitment(new Uint8Array(randomBytes(32)), shard));
    const other = new Uint8Array(shard);
    other[0]! ^= 1;
    assert.notEqual(shardCommitment(salt, shard), shardCommitment(salt, other));
  });
});

describe("split and combine", () => {
  it("rebuilds the key from any k of the n verifier shards, and from k-1 plus the device's", async () => {
    const { key, sealed } = sealDocument(plaintext);
    const { verifierShards, deviceShard } = await splitKey(key, 4, 3);
    assert.equal(verifierShards.length, 4);
    assert.equal(deviceShard.index, 4);
    const commitments = verifierShards.map((s) => s.commitment);
    for (const subset of [
      [0, 1, 2],
      [1, 2, 3],
      [0, 2, 3],
      [3, 0, 1],
    ]) {
      const rebuilt = await combineShards(
        subset.map((i) => from(`V${i}`)(verifierShards[i]!)),
        commitments,
        3,
      );
      assert.deepEqual(rebuilt, key);
      assert.deepEqual(openDocument(sealed, rebuilt), plaintext);
    }
    const withDevice = await combine(
      [verifierShards[0]!, verifierShards[2]!, deviceShard].map((s) => fromHex(s.shard, "s")),
    );
    assert.deepEqual(withDevice, key);
  });

  it("fails with k-1 shards: refused by count, and the raw combination decrypts nothing", async () => {
    const { key, sealed } = sealDocument(plaintext);
    const { verifierShards } = await splitKey(key, 3, 2);
    const commitments = verifierShards.map((s) => s.commitment);
    await assert.rejects(
      combineShards([from("Verifier1MSP")(verifierShards[0]!)], commitments, 2),
      (e: SecureIdError) =>
        e.code === "SecureIdTooFewShards" &&
        /1 distinct valid shard\(s\), the threshold is 2/.test(e.message),
    );
    // Two copies of one shard are still one shard.
    await assert.rejects(
      combineShards([from("A")(verifierShards[1]!), from("B")(verifierShards[1]!)], commitments, 2),
      /SecureIdTooFewShards/,
    );
    // Below the threshold Shamir yields some other value, never the key: decryption must fail.
    const { verifierShards: wide } = await splitKey(key, 4, 3);
    const guess = await combine([wide[0]!, wide[1]!].map((s) => fromHex(s.shard, "s")));
    assert.notDeepEqual(guess, key);
    assert.throws(() => openDocument(sealed, guess), /SecureIdDecryptionFailed/);
  });

  it("refuses a tampered or misplaced shard and names it", async () => {
    const { key } = sealDocument(plaintext);
    const { verifierShards } = await splitKey(key, 3, 2);
    const commitments = verifierShards.map((s) => s.commitment);
    const tampered = fromHex(verifierShards[1]!.shard, "s");
    tampered[5]! ^= 0x40;
    await assert.rejects(
      combineShards(
        [
          from("Verifier1MSP")(verifierShards[0]!),
          { ...from("Verifier2MSP")(verifierShards[1]!), shard: toHex(tampered) },
        ],
        commitments,
        2,
      ),
      (e: SecureIdError) =>
        e.code === "SecureIdCommitmentMismatch" &&
        /shard 1 from Verifier2MSP does not match its commitment/.test(e.message),
    );
    await assert.rejects(
      combineShards(
        [from("Verifier1MSP")(verifierShards[0]!), { ...from("Verifier3MSP")(verifierShards[2]!), index: 1 }],
        commitments,
        2,
      ),
      /shard 1 from Verifier3MSP does not match/,
    );
    await assert.rejects(
      combineShards([{ ...from("X")(verifierShards[0]!), index: 7 }], commitments, 2),
      /index 7, outside 0\.\.2/,
    );
  });

  it("refuses a policy Shamir cannot honour", async () => {
    await assert.rejects(splitKey(new Uint8Array(32), 3, 1), /need 2 ≤ k ≤ n ≤ 254, got k=1, n=3/);
    await assert.rejects(splitKey(new Uint8Array(32), 2, 3), /got k=3, n=2/);
    await assert.rejects(splitKey(new Uint8Array(32), 255, 2), /SecureIdBadPolicy/);
  });
});

describe("document encryption", () => {
  it("authenticates: a changed ciphertext, nonce or key fails", () => {
    const { key, sealed, ciphertextHash } = sealDocument(plaintext);
    assert.match(ciphertextHash, /^[0-9a-f]{64}$/);
    assert.deepEqual(openDocument(sealed, key), plaintext);
    for (const at of [0, 30, sealed.length - 1]) {
      const altered = new Uint8Array(sealed);
      altered[at]! ^= 1;
      assert.throws(
        () => openDocument(altered, key),
        /SecureIdDecryptionFailed: the document does not decrypt/,
      );
    }
    const otherKey = new Uint8Array(key);
    otherKey[0]! ^= 1;
    assert.throws(() => openDocument(sealed, otherKey), /SecureIdDecryptionFailed/);
    assert.throws(() => openDocument(sealed.subarray(0, 20), key), /only 20 bytes/);
  });

  it("uses a fresh key and nonce every time", () => {
    const a = sealDocument(plaintext);
    const b = sealDocument(plaintext);
    assert.notDeepEqual(a.key, b.key);
    assert.notEqual(a.ciphertextHash, b.ciphertextHash);
  });
});
