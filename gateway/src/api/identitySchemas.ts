import { createHash } from "node:crypto";

import { EVENTS } from "@gridmesh/chaincode/client";
import { z } from "zod";

import { ciphertextHashOf, shardCommitmentOf } from "../identity/sealCommitments.js";
import { count, lowerAddress as address, timestamp } from "./schemaParts.js";

/**
 * The Secure ID endpoints' schemas. Values travel as the protocol spells them (docs/SECURE_ID.md):
 * lower-case hex without `0x` for keys, hashes and signatures, `0x` for EVM values. Nothing is
 * normalised, because the device signed exactly what it sends.
 */

// --- parameters and bodies ----------------------------------------------------------------------

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "must be 32 bytes as lower-case hex");
const hexBytes = z.string().regex(/^(?:[0-9a-f]{2})+$/, "must be lower-case hex of whole bytes");
const deviceSignature = z
  .string()
  .regex(/^[0-9a-f]{128}$/, "must be an ed25519 signature: 64 bytes as lower-case hex");
const mspId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be an MSP id");

export const deviceIdParam = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, "must be 0x and 64 lower-case hex digits (sha256 of the device's public key)");
export const requestIdParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8 to 64 characters of A-Z, a-z, 0-9, _ or -");
const lowerCaseAddress = z
  .string()
  .regex(/^0x[0-9a-f]{40}$/, "must be a lower-case 0x address (the spelling the device signed)");

export const provisionBodySchema = z
  .strictObject({
    deviceId: deviceIdParam,
    publicKey: hex32.describe("the device's raw ed25519 public key"),
    meter: lowerCaseAddress.describe("the Ethereum address of the meter key this device holds"),
    attributesHash: hex32.describe("sha256 of the canonical JSON of the identity document"),
    signature: deviceSignature.describe("the device's signature of its `provision` message"),
  })
  .superRefine((body, ctx) => {
    const id = `0x${createHash("sha256").update(Buffer.from(body.publicKey, "hex")).digest("hex")}`;
    if (id !== body.deviceId) {
      ctx.addIssue({ code: "custom", path: ["deviceId"], message: `is not sha256 of publicKey (${id})` });
    }
  });

/** The largest sealed identity document accepted: it is copied to every verifier's collection. */
const MAX_CIPHERTEXT_HEX = 16_384;

export const sealBodySchema = z
  .strictObject({
    ciphertextHash: hex32,
    commitments: z.array(hex32).min(2).max(16).describe("salted shard commitments, one per verifier"),
    verifiers: z.array(mspId).min(2).max(16).describe("verifier organisations, shard i for verifiers[i]"),
    k: z.number().int().min(2).max(16).describe("shards needed to rebuild the document key"),
    epoch: z.number().int().min(1).max(1_000_000),
    signature: deviceSignature.describe("the device's signature of its `keymaker` message"),
    ciphertext: hexBytes.max(MAX_CIPHERTEXT_HEX).describe("nonce ‖ secretbox of the identity document"),
    shards: z
      .array(z.strictObject({ shard: hexBytes.max(200), salt: hex32 }))
      .min(2)
      .max(16)
      .describe("shards[i] is deposited on verifiers[i]'s peer alone"),
  })
  .superRefine((body, ctx) => {
    const n = body.verifiers.length;
    if (body.commitments.length !== n) {
      ctx.addIssue({ code: "custom", path: ["commitments"], message: `must have one per verifier (${n})` });
    }
    if (body.shards.length !== n) {
      ctx.addIssue({ code: "custom", path: ["shards"], message: `must have one per verifier (${n})` });
    }
    if (new Set(body.verifiers).size !== n) {
      ctx.addIssue({ code: "custom", path: ["verifiers"], message: "must not name an organisation twice" });
    }
    if (body.k > n)
      ctx.addIssue({ code: "custom", path: ["k"], message: `must be at most ${n} (verifiers)` });
    if (ciphertextHashOf(body.ciphertext) !== body.ciphertextHash) {
      ctx.addIssue({ code: "custom", path: ["ciphertext"], message: "does not hash to ciphertextHash" });
    }
    body.shards.forEach((s, i) => {
      const commitment = body.commitments[i];
      if (commitment !== undefined && shardCommitmentOf(s.salt, s.shard) !== commitment) {
        ctx.addIssue({ code: "custom", path: ["shards", i], message: `does not match commitments[${i}]` });
      }
    });
  });

export const revocationBodySchema = z.strictObject({
  reason: z.string().min(1).max(200),
  signature: deviceSignature.describe("the device's signature of its `revoke` message"),
});

export const verificationAnswerBodySchema = z.strictObject({
  consentSignature: deviceSignature.describe("the device's signature of messages.consent"),
  challengeSignature: deviceSignature.describe("the device's signature of messages.challenge"),
});

const eventNames = Object.values(EVENTS) as [string, ...string[]];
export const chaincodeEventName = z.enum(eventNames);

// --- responses ----------------------------------------------------------------------------------

const uint = z.string().regex(/^(0|[1-9][0-9]*)$/);
const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/);
const fabricTxId = z.string().describe("a Fabric transaction id");

export const identityVerifiersSchema = z.strictObject({
  ownerMsp: z.string().describe("the organisation that owns what this gateway provisions; devices sign it"),
  ledger: z.enum(["embedded", "fabric"]),
  channel: z.string(),
  chaincode: z.string(),
  verifiers: z.array(
    z.strictObject({
      mspId: z.string(),
      attestationSigner: address,
      attestorHere: z.boolean().describe("whether this gateway runs that organisation's attestor"),
    }),
  ),
});

export const identityProvisionedSchema = z.strictObject({
  deviceId: bytes32,
  meter: address,
  ownerMsp: z.string(),
  status: z.enum(["active", "revoked"]),
  txId: fabricTxId,
});

const depositSchema = z.strictObject({
  verifierMsp: z.string(),
  txId: fabricTxId.nullable(),
  error: z.string().nullable(),
});

export const identitySealedSchema = z.strictObject({
  deviceId: bytes32,
  epoch: count,
  k: count,
  verifiers: z.array(z.string()),
  sealTxId: fabricTxId,
  deposits: z.array(depositSchema),
});

export const identityRevokedSchema = z.strictObject({
  deviceId: bytes32,
  status: z.literal("revoked"),
  reason: z.string(),
  txId: fabricTxId,
});

export const verificationPreparedSchema = z.strictObject({
  requestId: requestIdParam,
  deviceId: bytes32,
  epoch: count,
  challenge: hex32,
  requesterMsp: z.string(),
  recipientKey: hex32.describe("the requester's one-time X25519 key the shards are released to"),
  expiresAt: timestamp.describe("the signatures must arrive before this"),
  messages: z
    .strictObject({
      consent: z.record(z.string(), z.union([z.string(), z.number()])),
      challenge: z.record(z.string(), z.string()),
    })
    .describe("sign the UTF-8 canonical JSON (sorted keys) of each, with the device key"),
});

const attestationSchema = z.strictObject({
  verifierMsp: z.string(),
  signer: address,
  signature: z.string().nullable().describe("EIP-712 MeterAttestation signature"),
  error: z.string().nullable().describe("why the attestor refused"),
});

const activationSchema = z.strictObject({
  status: z.enum(["active", "failed", "not-submitted"]),
  txHash: bytes32.nullable(),
  error: z.string().nullable(),
});

export const verificationResultSchema = z.strictObject({
  requestId: requestIdParam,
  deviceId: bytes32,
  meter: address,
  verdictTxId: bytes32,
  attestations: z.array(attestationSchema),
  activation: activationSchema,
});

const verificationStatus = z.enum([
  "awaiting-signatures",
  "verifying",
  "verified",
  "failed",
  "refused",
  "expired",
  "abandoned",
]);

export const identityStatusSchema = z.strictObject({
  deviceId: bytes32,
  publicKey: hex32,
  meter: address,
  ownerMsp: z.string(),
  status: z.enum(["active", "revoked"]).describe("on the Secure ID ledger"),
  provisionedAt: timestamp,
  provisionTxId: fabricTxId,
  revocation: z
    .strictObject({ reason: z.string(), by: z.enum(["device", "owner"]), at: timestamp, txId: fabricTxId })
    .nullable(),
  seal: z
    .strictObject({
      epoch: count,
      k: count,
      n: count,
      verifiers: z.array(z.string()),
      sealedAt: timestamp,
      txId: fabricTxId,
      deposits: z.array(depositSchema).describe("the deposits this gateway relayed for this epoch"),
    })
    .nullable(),
  lastVerification: z
    .strictObject({
      requestId: requestIdParam,
      epoch: count,
      status: verificationStatus,
      reason: z.string().nullable(),
      verdictTxId: bytes32.nullable(),
      attestations: z.array(attestationSchema),
      activation: activationSchema.nullable(),
      createdAt: timestamp,
      updatedAt: timestamp,
    })
    .nullable(),
  activationTx: bytes32.nullable().describe("the MeterRegistry.activate transaction this gateway sent"),
  registry: z
    .strictObject({ meter: address, owner: address, status: z.enum(["enrolled", "active", "deactivated"]) })
    .nullable()
    .describe("the meter in MeterRegistry as the chain indexer saw it; null until enrolled"),
});

export const chaincodeEventSchema = z.strictObject({
  position: uint.describe("order of delivery: ledger order"),
  blockNumber: uint,
  txId: fabricTxId,
  name: chaincodeEventName,
  payload: z.unknown(),
  receivedAt: timestamp,
});
export const chaincodeEventPageSchema = z.strictObject({
  items: z.array(chaincodeEventSchema),
  nextCursor: z.string().nullable(),
});

/** Registered among the document's components (schemas.ts). */
export const identityComponentSchemas = {
  IdentityVerifiers: identityVerifiersSchema,
  IdentityProvisioned: identityProvisionedSchema,
  IdentitySealed: identitySealedSchema,
  IdentityRevoked: identityRevokedSchema,
  VerificationPrepared: verificationPreparedSchema,
  VerificationResult: verificationResultSchema,
  IdentityStatus: identityStatusSchema,
  ChaincodeEvent: chaincodeEventSchema,
  ChaincodeEventPage: chaincodeEventPageSchema,
} as const;
