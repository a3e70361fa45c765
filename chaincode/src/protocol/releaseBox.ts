import nacl from "tweetnacl";
import { z } from "zod";

import { marshal, unmarshal } from "../marshal.js";
import { SecureIdError } from "./errors.js";
import { sha256 } from "./hashing.js";
import { bytes32, fromHex, hex32, hexString, mspId, requestId, toHex } from "./hex.js";

/**
 * A verifier's shard travels back to the requester sealed with NaCl box to the X25519 key the device
 * consented to (`recipientKey` in the request). Evaluated proposals are not recorded, but a requester who
 * *submitted* ReleaseShard by mistake would put the result in a block that every channel member reads;
 * sealed, it stays the requester's alone, and no peer or gateway in between sees it either.
 *
 * Chaincode must be deterministic, so the ephemeral key and nonce are derived, not drawn: the key from
 * the shard's secret salt and the transaction id (unpredictable to anyone without the salt, different for
 * every transaction), the nonce from the transaction id.
 */
export const releasePayloadSchema = z
  .object({
    requestId,
    deviceId: bytes32,
    epoch: z.number().int().positive(),
    verifierMsp: mspId,
    index: z.number().int().nonnegative(),
    shard: hexString,
    salt: hex32,
    ciphertext: hexString,
  })
  .strict();

export type ReleasePayload = z.infer<typeof releasePayloadSchema>;

export const sealedReleaseSchema = z
  .object({
    verifierMsp: mspId,
    index: z.number().int().nonnegative(),
    ephemeralKey: hex32,
    nonce: z.string(),
    box: hexString,
  })
  .strict();

export type SealedRelease = z.infer<typeof sealedReleaseSchema>;

const KEY_DOMAIN = new TextEncoder().encode("gridmesh.secureid.v1.release-key");
const NONCE_DOMAIN = new TextEncoder().encode("gridmesh.secureid.v1.release-nonce");

export function sealRelease(payload: ReleasePayload, recipientKey: string, txId: string): SealedRelease {
  const tx = new TextEncoder().encode(txId);
  const salt = fromHex(payload.salt, "shard salt", 32);
  const ephemeral = nacl.box.keyPair.fromSecretKey(sha256(KEY_DOMAIN, salt, tx));
  const nonce = sha256(NONCE_DOMAIN, tx).subarray(0, nacl.box.nonceLength);
  const box = nacl.box(
    marshal(payload),
    nonce,
    fromHex(recipientKey, "recipient key", 32),
    ephemeral.secretKey,
  );
  return {
    verifierMsp: payload.verifierMsp,
    index: payload.index,
    ephemeralKey: toHex(ephemeral.publicKey),
    nonce: toHex(nonce),
    box: toHex(box),
  };
}

/** Opens a release with the requester's secret key and checks it is the one asked for. */
export function openRelease(
  sealed: SealedRelease,
  recipientSecretKey: Uint8Array,
  expected: { requestId: string; deviceId: string; verifierMsp: string },
): ReleasePayload {
  const opened = nacl.box.open(
    fromHex(sealed.box, "release box"),
    fromHex(sealed.nonce, "release nonce", nacl.box.nonceLength),
    fromHex(sealed.ephemeralKey, "release ephemeral key", 32),
    recipientSecretKey,
  );
  if (!opened) {
    throw new SecureIdError(
      "SecureIdBadRelease",
      `release from ${expected.verifierMsp} does not open with our key`,
    );
  }
  const payload = releasePayloadSchema.parse(unmarshal(opened, `release from ${expected.verifierMsp}`));
  if (
    payload.requestId !== expected.requestId ||
    payload.deviceId !== expected.deviceId ||
    payload.verifierMsp !== expected.verifierMsp ||
    payload.index !== sealed.index
  ) {
    throw new SecureIdError(
      "SecureIdBadRelease",
      `release from ${expected.verifierMsp} is for request ${payload.requestId}, device ${payload.deviceId}, ` +
        `verifier ${payload.verifierMsp}, index ${payload.index}`,
    );
  }
  return payload;
}
