import { randomBytes } from "node:crypto";

import type { DeviceIdentity } from "../src/client/deviceIdentity.js";
import type { SecureIdClient } from "../src/client/secureIdClient.js";
import { marshal } from "../src/marshal.js";
import { sealDocument } from "../src/protocol/documentBox.js";
import { toHex } from "../src/protocol/hex.js";
import { documentBytes, type IdentityDocument } from "../src/protocol/identityDocument.js";
import { sealMessage } from "../src/protocol/messages.js";
import type { DepositTransient, RequestRecord } from "../src/protocol/records.js";
import { sealRelease, type ReleasePayload } from "../src/protocol/releaseBox.js";
import { splitKey, type CommittedShard } from "../src/protocol/shards.js";

/**
 * Keymaker done step by step, keeping what DeviceIdentity.keymaker throws away (every shard and the
 * ciphertext), so that a test can deposit something wrong or play a verifier that lies about its shard.
 */
export interface HandSeal {
  deviceId: string;
  epoch: number;
  k: number;
  verifiers: string[];
  ciphertext: string;
  ciphertextHash: string;
  shards: CommittedShard[];
}

export async function sealByHand(
  client: SecureIdClient,
  device: DeviceIdentity,
  document: IdentityDocument,
  policy: { verifiers: readonly string[]; k: number; epoch: number },
): Promise<HandSeal> {
  const verifiers = [...policy.verifiers];
  const { key, sealed, ciphertextHash } = sealDocument(documentBytes(document));
  const { verifierShards } = await splitKey(key, verifiers.length, policy.k);
  const commitments = verifierShards.map((s) => s.commitment);
  const fields = { deviceId: device.deviceId, ciphertextHash, commitments, verifiers, k: policy.k };
  await client.sealIdentity({
    ...fields,
    epoch: policy.epoch,
    signature: device.sign(sealMessage({ ...fields, epoch: policy.epoch })),
  });
  return {
    deviceId: device.deviceId,
    epoch: policy.epoch,
    k: policy.k,
    verifiers,
    ciphertext: toHex(sealed),
    ciphertextHash,
    shards: verifierShards,
  };
}

/** The transient deposit of shard `index`, as Keymaker sends it to that verifier. */
export function depositOf(seal: HandSeal, index: number): DepositTransient {
  const shard = seal.shards[index]!;
  return { shard: shard.shard, salt: shard.salt, ciphertext: seal.ciphertext };
}

/**
 * What a verifier that lies about what it holds would answer to ReleaseShard: its real shard, salt and
 * ciphertext with `change` applied, sealed to the request's recipient key exactly as the chaincode seals.
 */
export function lyingRelease(
  seal: HandSeal,
  index: number,
  request: RequestRecord,
  change: (payload: ReleasePayload) => ReleasePayload,
): Uint8Array {
  const payload: ReleasePayload = {
    requestId: request.requestId,
    deviceId: seal.deviceId,
    epoch: seal.epoch,
    verifierMsp: seal.verifiers[index]!,
    index,
    ...depositOf(seal, index),
  };
  return marshal(sealRelease(change(payload), request.recipientKey, toHex(randomBytes(32))));
}

/** The hex string with its first digit changed: a one-bit tampering. */
export const flipFirst = (hex: string): string => (parseInt(hex[0]!, 16) ^ 1).toString(16) + hex.slice(1);
