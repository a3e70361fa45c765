import type { Context } from "fabric-contract-api";
import { z } from "zod";

import { deviceIdOf, verifyDeviceMessage } from "../protocol/ed25519.js";
import { SecureIdError } from "../protocol/errors.js";
import { address, bytes32, hex32 } from "../protocol/hex.js";
import { deregisterMessage, provisionMessage, revokeMessage } from "../protocol/messages.js";
import {
  EVENTS,
  identityRecordSchema,
  type Deregistration,
  type IdentityRecord,
  type VerifierOrgRecord,
} from "../protocol/records.js";
import { keys } from "./keys.js";
import { emit, parseArg, readRecord, submitterMsp, txId, txTime, writeRecord } from "./txContext.js";

const signatureHex = z
  .string()
  .regex(/^[0-9a-f]{128}$/, "expected a 64-byte ed25519 signature as lower-case hex");
const meterBindingSchema = z.object({ deviceId: bytes32 }).strict();

/** A verifier organisation announces itself and the Ethereum key it signs attestations with. */
export async function registerVerifierOrg(
  ctx: Context,
  attestationSigner: string,
): Promise<VerifierOrgRecord> {
  const record: VerifierOrgRecord = {
    mspId: submitterMsp(ctx),
    attestationSigner: parseArg(address, attestationSigner, "attestationSigner"),
    registeredAt: txTime(ctx).iso,
    txId: txId(ctx),
  };
  await writeRecord(ctx, keys.verifierOrg(ctx.stub, record.mspId), record);
  emit(ctx, EVENTS.verifierOrgRegistered, record);
  return record;
}

export async function provisionIdentity(
  ctx: Context,
  args: { deviceId: string; publicKey: string; meter: string; attributesHash: string; signature: string },
): Promise<IdentityRecord> {
  const deviceId = parseArg(bytes32, args.deviceId, "deviceId");
  const publicKey = parseArg(hex32, args.publicKey, "publicKey");
  const meter = parseArg(address, args.meter, "meter");
  const attributesHash = parseArg(hex32, args.attributesHash, "attributesHash");
  const signature = parseArg(signatureHex, args.signature, "signature");
  if (deviceIdOf(publicKey) !== deviceId) {
    throw new SecureIdError(
      "SecureIdDeviceIdMismatch",
      `deviceId ${deviceId} is not sha256 of public key ${publicKey} (${deviceIdOf(publicKey)})`,
    );
  }
  const ownerMsp = submitterMsp(ctx);
  const message = provisionMessage({ deviceId, publicKey, meter, attributesHash, ownerMsp });
  if (!verifyDeviceMessage(publicKey, message, signature)) {
    throw new SecureIdError(
      "SecureIdBadSignature",
      `provision signature of ${deviceId} (owner ${ownerMsp}) is invalid`,
    );
  }
  if ((await ctx.stub.getState(keys.retired(ctx.stub, deviceId))).length > 0) {
    throw new SecureIdError(
      "SecureIdDeviceRetired",
      `device ${deviceId} was deregistered; its key cannot return`,
    );
  }
  const existing = await readRecord(ctx, keys.identity(ctx.stub, deviceId), identityRecordSchema, deviceId);
  if (existing) {
    throw new SecureIdError(
      "SecureIdDeviceExists",
      `device ${deviceId} is already provisioned (${existing.status})`,
    );
  }
  const binding = await readRecord(ctx, keys.meter(ctx.stub, meter), meterBindingSchema, `meter ${meter}`);
  if (binding) {
    throw new SecureIdError(
      "SecureIdMeterBound",
      `meter ${meter} is bound to live device ${binding.deviceId}`,
    );
  }
  const identity: IdentityRecord = {
    deviceId,
    publicKey,
    meter,
    attributesHash,
    ownerMsp,
    status: "active",
    provisionedAt: txTime(ctx).iso,
    provisionTxId: txId(ctx),
    seal: null,
    revocation: null,
  };
  await writeRecord(ctx, keys.identity(ctx.stub, deviceId), identity);
  await writeRecord(ctx, keys.meter(ctx.stub, meter), { deviceId });
  emit(ctx, EVENTS.identityProvisioned, { deviceId, meter, ownerMsp, attributesHash });
  return identity;
}

/** Revocation is final: no new seals, requests, releases or successful verdicts, and the meter is freed. */
export async function revokeIdentity(
  ctx: Context,
  args: { deviceId: string; reason: string; signature: string },
): Promise<IdentityRecord> {
  const deviceId = parseArg(bytes32, args.deviceId, "deviceId");
  const reason = parseArg(z.string().max(500), args.reason, "reason");
  const identity = await requireIdentity(ctx, deviceId);
  if (identity.status === "revoked") {
    throw new SecureIdError(
      "SecureIdAlreadyRevoked",
      `device ${deviceId} was revoked at ${identity.revocation?.at}`,
    );
  }
  const by = authorise(ctx, identity, args.signature, revokeMessage({ deviceId, reason }), "revoke");
  const revoked: IdentityRecord = {
    ...identity,
    status: "revoked",
    revocation: { reason, by, at: txTime(ctx).iso, txId: txId(ctx) },
  };
  await writeRecord(ctx, keys.identity(ctx.stub, deviceId), revoked);
  await releaseMeter(ctx, identity);
  emit(ctx, EVENTS.identityRevoked, { deviceId, meter: identity.meter, reason, by });
  return revoked;
}

/**
 * Removes the identity from world state (its history stays) and retires the device id for good: a key
 * that was once deregistered may have left the device, so it never comes back.
 */
export async function deregisterIdentity(
  ctx: Context,
  args: { deviceId: string; signature: string },
): Promise<Deregistration> {
  const deviceId = parseArg(bytes32, args.deviceId, "deviceId");
  const identity = await requireIdentity(ctx, deviceId);
  const by = authorise(ctx, identity, args.signature, deregisterMessage({ deviceId }), "deregister");
  const result: Deregistration = { deviceId, deregisteredAt: txTime(ctx).iso, txId: txId(ctx) };
  await ctx.stub.deleteState(keys.identity(ctx.stub, deviceId));
  await releaseMeter(ctx, identity);
  await writeRecord(ctx, keys.retired(ctx.stub, deviceId), result);
  emit(ctx, EVENTS.identityDeregistered, { deviceId, meter: identity.meter, by });
  return result;
}

export async function requireIdentity(ctx: Context, deviceId: string): Promise<IdentityRecord> {
  const identity = await readRecord(ctx, keys.identity(ctx.stub, deviceId), identityRecordSchema, deviceId);
  if (!identity) throw new SecureIdError("SecureIdDeviceNotFound", `device ${deviceId} is not provisioned`);
  return identity;
}

export function requireActive(identity: IdentityRecord): void {
  if (identity.status === "revoked") {
    throw new SecureIdError(
      "SecureIdDeviceRevoked",
      `device ${identity.deviceId} was revoked at ${identity.revocation?.at} (${identity.revocation?.reason})`,
    );
  }
}

/** The device's own signature, or no signature from its owner organisation. */
function authorise(
  ctx: Context,
  identity: IdentityRecord,
  signature: string,
  message: Parameters<typeof verifyDeviceMessage>[1],
  action: string,
): "device" | "owner" {
  if (signature === "") {
    const submitter = submitterMsp(ctx);
    if (submitter !== identity.ownerMsp) {
      throw new SecureIdError(
        "SecureIdUnauthorized",
        `${submitter} may not ${action} device ${identity.deviceId} without its signature (owner ${identity.ownerMsp})`,
      );
    }
    return "owner";
  }
  parseArg(signatureHex, signature, "signature");
  if (!verifyDeviceMessage(identity.publicKey, message, signature)) {
    throw new SecureIdError("SecureIdBadSignature", `${action} signature of ${identity.deviceId} is invalid`);
  }
  return "device";
}

async function releaseMeter(ctx: Context, identity: IdentityRecord): Promise<void> {
  const key = keys.meter(ctx.stub, identity.meter);
  const binding = await readRecord(ctx, key, meterBindingSchema, `meter ${identity.meter}`);
  if (binding?.deviceId === identity.deviceId) await ctx.stub.deleteState(key);
}
