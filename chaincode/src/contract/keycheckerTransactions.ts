import type { Context } from "fabric-contract-api";

import { verifyDeviceMessage } from "../protocol/ed25519.js";
import { SecureIdError } from "../protocol/errors.js";
import { sameDigest } from "../protocol/hashing.js";
import { bytes32, hex32, requestId as requestIdSchema } from "../protocol/hex.js";
import { challengeMessage, verifyMessage } from "../protocol/messages.js";
import {
  depositRecordSchema,
  EVENTS,
  REQUEST_TTL_SECONDS,
  verdictInputSchema,
  type RequestRecord,
  type VerdictRecord,
} from "../protocol/records.js";
import { sealRelease, type SealedRelease } from "../protocol/releaseBox.js";
import { requireActive, requireIdentity } from "./identityTransactions.js";
import { requireSeal, requireSealAt } from "./keymakerTransactions.js";
import { getRequest } from "./queries.js";
import { implicitCollection, keys } from "./keys.js";
import {
  emit,
  isoAfter,
  parseArg,
  parseIntArg,
  parseJsonArg,
  peerMsp,
  readPrivateRecord,
  secondsOf,
  submitterMsp,
  txId,
  txTime,
  writeRecord,
} from "./txContext.js";

/**
 * Keychecker, step 1: the requester's organisation opens a verification with a fresh challenge and the
 * device's consent to it, bound to the requester's MSP, the seal epoch and the key releases are sealed to.
 */
export async function requestVerification(
  ctx: Context,
  args: {
    requestId: string;
    deviceId: string;
    epoch: string;
    challenge: string;
    recipientKey: string;
    consentSignature: string;
  },
): Promise<RequestRecord> {
  const requestId = parseArg(requestIdSchema, args.requestId, "requestId");
  const deviceId = parseArg(bytes32, args.deviceId, "deviceId");
  const epoch = parseIntArg(args.epoch, "epoch", 1, 999_999_999);
  const challenge = parseArg(hex32, args.challenge, "challenge");
  const recipientKey = parseArg(hex32, args.recipientKey, "recipientKey");
  if ((await ctx.stub.getState(keys.request(ctx.stub, requestId))).length > 0) {
    throw new SecureIdError("SecureIdRequestExists", `request ${requestId} already exists`);
  }
  if ((await ctx.stub.getState(keys.challenge(ctx.stub, challenge))).length > 0) {
    throw new SecureIdError("SecureIdChallengeReused", `challenge ${challenge} was used before`);
  }
  const identity = await requireIdentity(ctx, deviceId);
  requireActive(identity);
  requireSealAt(identity, epoch, "request");
  const requesterMsp = submitterMsp(ctx);
  const consent = verifyMessage({ requestId, deviceId, epoch, challenge, requesterMsp, recipientKey });
  if (!verifyDeviceMessage(identity.publicKey, consent, args.consentSignature)) {
    throw new SecureIdError(
      "SecureIdBadSignature",
      `consent of ${deviceId} to verification ${requestId} by ${requesterMsp} is invalid`,
    );
  }
  const now = txTime(ctx);
  const request: RequestRecord = {
    requestId,
    deviceId,
    epoch,
    challenge,
    recipientKey,
    requesterMsp,
    status: "open",
    createdAt: now.iso,
    expiresAt: isoAfter(now.seconds, REQUEST_TTL_SECONDS),
    txId: txId(ctx),
    verdictTxId: null,
  };
  await writeRecord(ctx, keys.request(ctx.stub, requestId), request);
  await writeRecord(ctx, keys.challenge(ctx.stub, challenge), { requestId });
  emit(ctx, EVENTS.verificationRequested, {
    requestId,
    deviceId,
    epoch,
    requesterMsp,
    expiresAt: request.expiresAt,
  });
  return request;
}

/**
 * Keychecker, step 2, evaluated (never submitted) on one verifier organisation's peer: returns that
 * organisation's shard of the device key, sealed to the request's recipient key, to the requester alone.
 */
export async function releaseShard(ctx: Context, requestIdArg: string): Promise<SealedRelease> {
  const request = await requireOpenRequest(ctx, requestIdArg, "release a shard for");
  const identity = await requireIdentity(ctx, request.deviceId);
  requireActive(identity);
  const seal = requireSeal(identity);
  if (seal.epoch !== request.epoch) {
    throw new SecureIdError(
      "SecureIdEpochMismatch",
      `request ${request.requestId} is for epoch ${request.epoch}, ${request.deviceId} is now sealed at epoch ${seal.epoch}`,
    );
  }
  const verifierMsp = peerMsp(ctx);
  const index = seal.verifiers.indexOf(verifierMsp);
  if (index < 0) {
    throw new SecureIdError(
      "SecureIdNoShardHeld",
      `${verifierMsp} is not a verifier of ${request.deviceId} at epoch ${seal.epoch}`,
    );
  }
  const deposit = await readPrivateRecord(
    ctx,
    implicitCollection(verifierMsp),
    keys.shard(ctx.stub, request.deviceId),
    depositRecordSchema,
    `shard of ${request.deviceId} at ${verifierMsp}`,
  );
  if (!deposit) {
    throw new SecureIdError(
      "SecureIdNoShardHeld",
      `${verifierMsp} holds no deposited shard of ${request.deviceId}`,
    );
  }
  if (deposit.epoch !== seal.epoch || deposit.index !== index) {
    throw new SecureIdError(
      "SecureIdEpochMismatch",
      `${verifierMsp} holds shard ${deposit.index} of epoch ${deposit.epoch}, the seal is epoch ${seal.epoch} index ${index}`,
    );
  }
  return sealRelease(
    {
      requestId: request.requestId,
      deviceId: request.deviceId,
      epoch: seal.epoch,
      verifierMsp,
      index,
      shard: deposit.shard,
      salt: deposit.salt,
      ciphertext: deposit.ciphertext,
    },
    request.recipientKey,
    txId(ctx),
  );
}

/**
 * Keychecker, step 4: the requester records its verdict. A successful one needs the device's fresh
 * signature over this request's challenge (checked here, so a replayed, misdirected or forged response
 * fails), the registered document hash and at least k distinct shard indices of the current seal.
 */
export async function recordVerdict(
  ctx: Context,
  args: { requestId: string; verdict: string; challengeResponse: string },
): Promise<VerdictRecord> {
  const request = await requireOpenRequest(ctx, args.requestId, "record a verdict for");
  const verdict = parseJsonArg(verdictInputSchema, args.verdict, "verdict");
  const identity = await requireIdentity(ctx, request.deviceId);
  const seal = requireSeal(identity);
  const indices = verdict.shardIndices;
  if (new Set(indices).size !== indices.length || indices.some((i) => i >= seal.n)) {
    throw new SecureIdError(
      "SecureIdBadShardIndices",
      `shard indices [${indices.join(", ")}] must be distinct and below n=${seal.n}`,
    );
  }
  if (verdict.ok) {
    requireActive(identity);
    if (seal.epoch !== request.epoch) {
      throw new SecureIdError(
        "SecureIdEpochMismatch",
        `request epoch ${request.epoch}, seal epoch ${seal.epoch}`,
      );
    }
    if (indices.length < seal.k) {
      throw new SecureIdError(
        "SecureIdBadShardIndices",
        `${indices.length} shard(s) cannot meet the threshold k=${seal.k}`,
      );
    }
    if (verdict.documentHash === null || !sameDigest(verdict.documentHash, identity.attributesHash)) {
      throw new SecureIdError(
        "SecureIdDocumentMismatch",
        `document hash ${verdict.documentHash} is not the registered ${identity.attributesHash}`,
      );
    }
    const expected = challengeMessage({
      requestId: request.requestId,
      deviceId: request.deviceId,
      challenge: request.challenge,
    });
    if (!verifyDeviceMessage(identity.publicKey, expected, args.challengeResponse)) {
      throw new SecureIdError(
        "SecureIdBadChallengeResponse",
        `challenge response is not ${request.deviceId}'s signature over challenge ${request.challenge} of request ${request.requestId}`,
      );
    }
  }
  const verdictTxId = `0x${txId(ctx)}`;
  const record: VerdictRecord = {
    ...verdict,
    requestId: request.requestId,
    deviceId: request.deviceId,
    meter: identity.meter,
    epoch: request.epoch,
    requesterMsp: request.requesterMsp,
    verdictTxId: parseArg(bytes32, verdictTxId, "transaction id"),
    recordedAt: txTime(ctx).iso,
  };
  await writeRecord(ctx, keys.verdict(ctx.stub, request.requestId), record);
  await writeRecord(ctx, keys.request(ctx.stub, request.requestId), {
    ...request,
    status: verdict.ok ? "verified" : "failed",
    verdictTxId,
  });
  emit(ctx, EVENTS.verdictRecorded, {
    requestId: request.requestId,
    deviceId: request.deviceId,
    ok: verdict.ok,
    requesterMsp: request.requesterMsp,
    verdictTxId,
  });
  return record;
}

/** The request exists, the caller's organisation made it, it has no verdict yet and has not expired. */
async function requireOpenRequest(
  ctx: Context,
  requestIdArg: string,
  action: string,
): Promise<RequestRecord> {
  const request = await getRequest(ctx, requestIdArg);
  const { requestId } = request;
  const caller = submitterMsp(ctx);
  if (caller !== request.requesterMsp) {
    throw new SecureIdError(
      "SecureIdNotRequester",
      `${caller} may not ${action} request ${requestId}: only its requester ${request.requesterMsp} may`,
    );
  }
  if (request.status !== "open") {
    throw new SecureIdError("SecureIdRequestClosed", `request ${requestId} is closed (${request.status})`);
  }
  const now = txTime(ctx);
  if (now.seconds > secondsOf(request.expiresAt)) {
    throw new SecureIdError(
      "SecureIdRequestExpired",
      `request ${requestId} expired at ${request.expiresAt} (now ${now.iso})`,
    );
  }
  return request;
}
