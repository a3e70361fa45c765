import { z } from "zod";

/**
 * The gateway identity API's answers as the agent reads them (the gateway's OpenAPI document,
 * /v1/openapi.json, is the reference). Objects are not strict: a newer gateway may add fields. The
 * messages the device is asked to sign are checked field by field elsewhere (verificationMessages.ts).
 */

const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/, "expected 0x and 64 lower-case hex digits");
const address = z.string().regex(/^0x[0-9a-f]{40}$/, "expected a lower-case 0x address");
const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "expected 32 bytes as lower-case hex");
const count = z.number().int().nonnegative();

export const verifiersAnswer = z.object({
  ownerMsp: z.string().min(1),
  ledger: z.string(),
  verifiers: z.array(
    z.object({ mspId: z.string().min(1), attestationSigner: address, attestorHere: z.boolean() }),
  ),
});

export const provisionedAnswer = z.object({
  deviceId: bytes32,
  meter: address,
  ownerMsp: z.string(),
  status: z.string(),
  txId: z.string().min(1),
});

const deposit = z.object({
  verifierMsp: z.string(),
  txId: z.string().nullable(),
  error: z.string().nullable(),
});

export const sealedAnswer = z.object({
  deviceId: bytes32,
  epoch: count,
  k: count,
  verifiers: z.array(z.string()),
  sealTxId: z.string().min(1),
  deposits: z.array(deposit),
});

export const revokedAnswer = z.object({
  deviceId: bytes32,
  status: z.literal("revoked"),
  reason: z.string(),
  txId: z.string().min(1),
});

export const preparedAnswer = z.object({
  requestId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  deviceId: bytes32,
  epoch: count,
  challenge: hex32,
  requesterMsp: z.string().min(1),
  recipientKey: hex32,
  expiresAt: z.string(),
  messages: z.object({
    consent: z.record(z.string(), z.unknown()),
    challenge: z.record(z.string(), z.unknown()),
  }),
});

const attestation = z.object({
  verifierMsp: z.string(),
  signer: address,
  signature: z.string().nullable(),
  error: z.string().nullable(),
});

const activation = z.object({
  status: z.enum(["active", "failed", "not-submitted"]),
  txHash: bytes32.nullable(),
  error: z.string().nullable(),
});

export const verificationAnswer = z.object({
  requestId: z.string(),
  deviceId: bytes32,
  meter: address,
  verdictTxId: bytes32,
  attestations: z.array(attestation),
  activation,
});

export const statusAnswer = z.object({
  deviceId: bytes32,
  publicKey: hex32,
  meter: address,
  ownerMsp: z.string(),
  status: z.enum(["active", "revoked"]),
  provisionTxId: z.string(),
  revocation: z.object({ reason: z.string(), by: z.string(), at: z.string(), txId: z.string() }).nullable(),
  seal: z
    .object({
      epoch: count,
      k: count,
      n: count,
      verifiers: z.array(z.string()),
      txId: z.string(),
      deposits: z.array(deposit),
    })
    .nullable(),
  lastVerification: z
    .object({
      requestId: z.string(),
      epoch: count,
      status: z.string(),
      reason: z.string().nullable(),
      verdictTxId: bytes32.nullable(),
      attestations: z.array(attestation),
      activation: activation.nullable(),
    })
    .nullable(),
  activationTx: bytes32.nullable(),
  registry: z.object({ meter: address, owner: address, status: z.string() }).nullable(),
});

export type VerifiersAnswer = z.infer<typeof verifiersAnswer>;
export type ProvisionedAnswer = z.infer<typeof provisionedAnswer>;
export type SealedAnswer = z.infer<typeof sealedAnswer>;
export type RevokedAnswer = z.infer<typeof revokedAnswer>;
export type PreparedAnswer = z.infer<typeof preparedAnswer>;
export type VerificationAnswer = z.infer<typeof verificationAnswer>;
export type StatusAnswer = z.infer<typeof statusAnswer>;
