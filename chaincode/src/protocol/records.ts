import { z } from "zod";

import { address, bytes32, hex32, hexString, mspId, requestId } from "./hex.js";

/**
 * The records the chaincode keeps and returns, one schema each, shared by the contract (which parses what
 * it reads back, so a damaged record is an error, not a surprise) and the clients (which parse what the
 * ledger answers). Times are ISO-8601 strings of the transaction timestamp.
 */
export const REQUEST_TTL_SECONDS = 300;

export const sealRecordSchema = z
  .object({
    epoch: z.number().int().positive(),
    k: z.number().int().min(2),
    n: z.number().int().min(2),
    verifiers: z.array(mspId),
    commitments: z.array(hex32),
    ciphertextHash: hex32,
    sealedAt: z.string(),
    txId: z.string(),
  })
  .strict();
export type SealRecord = z.infer<typeof sealRecordSchema>;

export const identityRecordSchema = z
  .object({
    deviceId: bytes32,
    publicKey: hex32,
    meter: address,
    attributesHash: hex32,
    ownerMsp: mspId,
    status: z.enum(["active", "revoked"]),
    provisionedAt: z.string(),
    provisionTxId: z.string(),
    seal: sealRecordSchema.nullable(),
    revocation: z
      .object({ reason: z.string(), by: z.enum(["device", "owner"]), at: z.string(), txId: z.string() })
      .strict()
      .nullable(),
  })
  .strict();
export type IdentityRecord = z.infer<typeof identityRecordSchema>;

export const requestRecordSchema = z
  .object({
    requestId,
    deviceId: bytes32,
    epoch: z.number().int().positive(),
    challenge: hex32,
    recipientKey: hex32,
    requesterMsp: mspId,
    status: z.enum(["open", "verified", "failed"]),
    createdAt: z.string(),
    expiresAt: z.string(),
    txId: z.string(),
    verdictTxId: bytes32.nullable(),
  })
  .strict();
export type RequestRecord = z.infer<typeof requestRecordSchema>;

/** What the requester submits to RecordVerdict. */
export const verdictInputSchema = z
  .object({
    ok: z.boolean(),
    reason: z.string().max(500),
    documentHash: hex32.nullable(),
    shardIndices: z.array(z.number().int().nonnegative()).max(254),
  })
  .strict();
export type VerdictInput = z.infer<typeof verdictInputSchema>;

export const verdictRecordSchema = verdictInputSchema
  .extend({
    requestId,
    deviceId: bytes32,
    meter: address,
    epoch: z.number().int().positive(),
    requesterMsp: mspId,
    /** `0x` + the Fabric transaction id that recorded the verdict: what verifiers attest to. */
    verdictTxId: bytes32,
    recordedAt: z.string(),
  })
  .strict();
export type VerdictRecord = z.infer<typeof verdictRecordSchema>;

export const verifierOrgRecordSchema = z
  .object({ mspId, attestationSigner: address, registeredAt: z.string(), txId: z.string() })
  .strict();
export type VerifierOrgRecord = z.infer<typeof verifierOrgRecordSchema>;

/** Kept in the verifier organisation's implicit private collection, never in public state. */
export const depositRecordSchema = z
  .object({
    deviceId: bytes32,
    epoch: z.number().int().positive(),
    index: z.number().int().nonnegative(),
    shard: hexString,
    salt: hex32,
    ciphertext: hexString,
    depositedAt: z.string(),
    txId: z.string(),
  })
  .strict();
export type DepositRecord = z.infer<typeof depositRecordSchema>;

/** The transient field `deposit` of DepositShard: canonical JSON of this. */
export const depositTransientSchema = z
  .object({ shard: hexString, salt: hex32, ciphertext: hexString })
  .strict();
export type DepositTransient = z.infer<typeof depositTransientSchema>;
export const DEPOSIT_TRANSIENT_KEY = "deposit";

export const depositResultSchema = z
  .object({ deviceId: bytes32, epoch: z.number().int(), index: z.number().int(), verifierMsp: mspId })
  .strict();
export type DepositResult = z.infer<typeof depositResultSchema>;

export const historyEntrySchema = z
  .object({
    txId: z.string(),
    timestamp: z.string(),
    isDelete: z.boolean(),
    record: identityRecordSchema.nullable(),
  })
  .strict();
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const deregistrationSchema = z
  .object({ deviceId: bytes32, deregisteredAt: z.string(), txId: z.string() })
  .strict();
export type Deregistration = z.infer<typeof deregistrationSchema>;

/** Event names, one per kind of state change; Fabric carries one event per transaction. */
export const EVENTS = {
  verifierOrgRegistered: "VerifierOrgRegistered",
  identityProvisioned: "IdentityProvisioned",
  identitySealed: "IdentitySealed",
  shardDeposited: "ShardDeposited",
  verificationRequested: "VerificationRequested",
  verdictRecorded: "VerdictRecorded",
  identityRevoked: "IdentityRevoked",
  identityDeregistered: "IdentityDeregistered",
} as const;
