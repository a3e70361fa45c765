import type { Context } from "fabric-contract-api";
import { z } from "zod";

import { verifyDeviceMessage } from "../protocol/ed25519.js";
import { SecureIdError } from "../protocol/errors.js";
import { sameDigest, sha256Hex, shardCommitment } from "../protocol/hashing.js";
import { bytes32, fromHex, hex32, mspId } from "../protocol/hex.js";
import { sealMessage } from "../protocol/messages.js";
import {
  DEPOSIT_TRANSIENT_KEY,
  depositTransientSchema,
  EVENTS,
  verifierOrgRecordSchema,
  type DepositRecord,
  type DepositResult,
  type IdentityRecord,
  type SealRecord,
} from "../protocol/records.js";
import { MAX_VERIFIERS } from "../protocol/shardLimits.js";
import { requireActive, requireIdentity } from "./identityTransactions.js";
import { implicitCollection, keys } from "./keys.js";
import {
  emit,
  parseArg,
  parseIntArg,
  parseJsonArg,
  peerMsp,
  readRecord,
  txId,
  txTime,
  writePrivateRecord,
  writeRecord,
} from "./txContext.js";

const MAX_EPOCH = 999_999_999;

/**
 * Keymaker, public step: the device's consent to exactly this ciphertext, these shard commitments, these
 * verifiers and this threshold. Committed before any shard moves, so each verifier's deposit can be checked
 * against it. A higher epoch re-keys and supersedes the previous seal.
 */
export async function sealIdentity(
  ctx: Context,
  args: {
    deviceId: string;
    ciphertextHash: string;
    commitments: string;
    verifiers: string;
    k: string;
    epoch: string;
    signature: string;
  },
): Promise<IdentityRecord> {
  const deviceId = parseArg(bytes32, args.deviceId, "deviceId");
  const ciphertextHash = parseArg(hex32, args.ciphertextHash, "ciphertextHash");
  const commitments = parseJsonArg(z.array(hex32), args.commitments, "commitments");
  const verifiers = parseJsonArg(z.array(mspId), args.verifiers, "verifiers");
  const k = parseIntArg(args.k, "k", 0, MAX_VERIFIERS);
  const epoch = parseIntArg(args.epoch, "epoch", 1, MAX_EPOCH);
  const n = verifiers.length;
  if (commitments.length !== n) {
    throw new SecureIdError("SecureIdBadPolicy", `${commitments.length} commitments for ${n} verifiers`);
  }
  if (k < 2 || k > n || n > MAX_VERIFIERS) {
    throw new SecureIdError("SecureIdBadPolicy", `need 2 ≤ k ≤ n ≤ ${MAX_VERIFIERS}, got k=${k}, n=${n}`);
  }
  const duplicate = verifiers.find((v, i) => verifiers.indexOf(v) !== i);
  if (duplicate) throw new SecureIdError("SecureIdBadPolicy", `verifier ${duplicate} is listed twice`);
  for (const verifier of verifiers) {
    const known = await readRecord(
      ctx,
      keys.verifierOrg(ctx.stub, verifier),
      verifierOrgRecordSchema,
      verifier,
    );
    if (!known)
      throw new SecureIdError(
        "SecureIdUnknownVerifier",
        `${verifier} is not a registered verifier organisation`,
      );
  }

  const identity = await requireIdentity(ctx, deviceId);
  requireActive(identity);
  if (identity.seal && epoch <= identity.seal.epoch) {
    throw new SecureIdError(
      "SecureIdStaleEpoch",
      `epoch ${epoch} is not above the current seal's epoch ${identity.seal.epoch} of ${deviceId}`,
    );
  }
  const message = sealMessage({ deviceId, ciphertextHash, commitments, verifiers, k, epoch });
  if (!verifyDeviceMessage(identity.publicKey, message, args.signature)) {
    throw new SecureIdError(
      "SecureIdBadSignature",
      `Keymaker consent of ${deviceId} for epoch ${epoch} is invalid`,
    );
  }
  const seal: SealRecord = {
    epoch,
    k,
    n,
    verifiers,
    commitments,
    ciphertextHash,
    sealedAt: txTime(ctx).iso,
    txId: txId(ctx),
  };
  const sealed: IdentityRecord = { ...identity, seal };
  await writeRecord(ctx, keys.identity(ctx.stub, deviceId), sealed);
  emit(ctx, EVENTS.identitySealed, { deviceId, epoch, k, n, verifiers, ciphertextHash });
  return sealed;
}

/**
 * Keymaker, private step, run on one verifier organisation's peer alone: the shard, its salt and the
 * ciphertext arrive as transient data and go to that organisation's implicit collection, after checking
 * them against the public seal. Nothing secret reaches public state; the event says only who holds what.
 */
export async function depositShard(
  ctx: Context,
  args: { deviceId: string; epoch: string },
): Promise<DepositResult> {
  const deviceId = parseArg(bytes32, args.deviceId, "deviceId");
  const epoch = parseIntArg(args.epoch, "epoch", 1, MAX_EPOCH);
  const identity = await requireIdentity(ctx, deviceId);
  requireActive(identity);
  const seal = requireSealAt(identity, epoch, "deposit");
  const verifierMsp = peerMsp(ctx);
  const index = seal.verifiers.indexOf(verifierMsp);
  if (index < 0) {
    throw new SecureIdError(
      "SecureIdNoShardHeld",
      `${verifierMsp} is not a verifier of ${deviceId} at epoch ${epoch} (verifiers ${seal.verifiers.join(", ")})`,
    );
  }
  const raw = ctx.stub.getTransient().get(DEPOSIT_TRANSIENT_KEY);
  if (!raw || raw.length === 0) {
    throw new SecureIdError(
      "SecureIdMissingTransient",
      `transient field "${DEPOSIT_TRANSIENT_KEY}" is missing`,
    );
  }
  const deposit = parseJsonArg(
    depositTransientSchema,
    Buffer.from(raw).toString("utf8"),
    `transient ${DEPOSIT_TRANSIENT_KEY}`,
  );
  const commitment = shardCommitment(fromHex(deposit.salt, "salt", 32), fromHex(deposit.shard, "shard"));
  if (!sameDigest(commitment, seal.commitments[index]!)) {
    throw new SecureIdError(
      "SecureIdCommitmentMismatch",
      `shard ${index} for ${verifierMsp} hashes to ${commitment}, the seal commits to ${seal.commitments[index]}`,
    );
  }
  const ciphertextHash = sha256Hex(fromHex(deposit.ciphertext, "ciphertext"));
  if (!sameDigest(ciphertextHash, seal.ciphertextHash)) {
    throw new SecureIdError(
      "SecureIdCiphertextMismatch",
      `ciphertext hashes to ${ciphertextHash}, the seal has ${seal.ciphertextHash}`,
    );
  }
  const record: DepositRecord = {
    deviceId,
    epoch,
    index,
    ...deposit,
    depositedAt: txTime(ctx).iso,
    txId: txId(ctx),
  };
  await writePrivateRecord(ctx, implicitCollection(verifierMsp), keys.shard(ctx.stub, deviceId), record);
  const result: DepositResult = { deviceId, epoch, index, verifierMsp };
  emit(ctx, EVENTS.shardDeposited, result);
  return result;
}

export function requireSeal(identity: IdentityRecord): SealRecord {
  if (!identity.seal)
    throw new SecureIdError("SecureIdNotSealed", `device ${identity.deviceId} has no Keymaker seal`);
  return identity.seal;
}

/** The device's seal, which must be at `epoch`: a deposit or request for a superseded seal is refused. */
export function requireSealAt(identity: IdentityRecord, epoch: number, what: string): SealRecord {
  const seal = requireSeal(identity);
  if (seal.epoch !== epoch) {
    throw new SecureIdError(
      "SecureIdEpochMismatch",
      `${what} for epoch ${epoch}, but ${identity.deviceId} is sealed at epoch ${seal.epoch}`,
    );
  }
  return seal;
}
