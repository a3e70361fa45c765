import { z } from "zod";

import { IdentityError, type IdentityErrorKind } from "../../identity/identityError.js";
import type { IdentityService } from "../../identity/identityService.js";
import { ApiError } from "../apiError.js";
import { cursorCodec, decimalKey, pageOf } from "../cursor.js";
import {
  chaincodeEventName,
  deviceIdParam,
  provisionBodySchema,
  requestIdParam,
  revocationBodySchema,
  sealBodySchema,
  verificationAnswerBodySchema,
} from "../identitySchemas.js";
import { defineRoute, type ApiDependencies } from "../route.js";
import { DEFAULT_LIMIT, limitParam } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";

const STATUS_OF: Record<IdentityErrorKind, number> = {
  invalid: 422,
  "not-found": 404,
  conflict: 409,
  forbidden: 403,
  unavailable: 503,
};

/** Runs `work` with the identity service, turning its refusals into API errors with the reason. */
async function withIdentity<T>(
  deps: ApiDependencies,
  work: (identity: IdentityService) => Promise<T>,
): Promise<T> {
  if (deps.identity === undefined) throw new ApiError(503, "Secure ID is not configured on this gateway");
  try {
    return await work(deps.identity);
  } catch (error) {
    if (error instanceof IdentityError) throw new ApiError(STATUS_OF[error.kind], error.message);
    throw error;
  }
}

const deviceParams = z.strictObject({ deviceId: deviceIdParam });
const requestParams = z.strictObject({ requestId: requestIdParam });

export const identityVerifiersRoute = defineRoute({
  method: "GET",
  path: "/v1/identity/verifiers",
  tag: "identity",
  summary: "The Secure ID ledger's verifier organisations, and the owner organisation devices sign for",
  response: "IdentityVerifiers",
  errors: [503],
  handle: ({ deps }) =>
    withIdentity(deps, async (identity) => ({
      ownerMsp: identity.ownerMsp,
      ledger: identity.ledgerKind,
      channel: identity.channel,
      chaincode: identity.chaincode,
      verifiers: await identity.verifiers(),
    })),
});

export const provisionRoute = defineRoute({
  method: "POST",
  path: "/v1/identity/devices",
  tag: "identity",
  summary: "Provision a device identity, signed by the device, owned by this gateway's organisation",
  description:
    "The device signs its `provision` message (docs/SECURE_ID.md) with ownerMsp from GET /v1/identity/verifiers.",
  body: provisionBodySchema,
  maxBodyBytes: 4096,
  response: "IdentityProvisioned",
  errors: [409, 413, 415, 422, 503],
  handle: ({ body, deps }) =>
    withIdentity(deps, async (identity) => {
      const { identity: record, txId } = await identity.provision(body);
      return {
        deviceId: record.deviceId,
        meter: record.meter,
        ownerMsp: record.ownerMsp,
        status: record.status,
        txId,
      };
    }),
});

export const sealRoute = defineRoute({
  method: "POST",
  path: "/v1/identity/devices/{deviceId}/seal",
  tag: "identity",
  summary: "Keymaker: commit the device's seal and deposit each shard on its verifier's peer alone",
  description:
    "The device encrypts its identity document, splits the key and signs the `keymaker` message; the gateway " +
    "checks every shard against its commitment before writing anything. The gateway sees the shards it relays.",
  params: deviceParams,
  body: sealBodySchema,
  maxBodyBytes: 65_536,
  response: "IdentitySealed",
  errors: [404, 409, 413, 415, 422, 503],
  handle: ({ params, body, deps }) => withIdentity(deps, (identity) => identity.seal(params.deviceId, body)),
});

export const revocationRoute = defineRoute({
  method: "POST",
  path: "/v1/identity/devices/{deviceId}/revocation",
  tag: "identity",
  summary: "Revoke a device identity with the device's signature; final",
  params: deviceParams,
  body: revocationBodySchema,
  maxBodyBytes: 4096,
  response: "IdentityRevoked",
  errors: [404, 409, 413, 415, 422, 503],
  handle: ({ params, body, deps }) =>
    withIdentity(deps, async (identity) => {
      const { identity: record, txId } = await identity.revoke(params.deviceId, body.reason, body.signature);
      return { deviceId: record.deviceId, status: "revoked", reason: body.reason, txId };
    }),
});

export const prepareVerificationRoute = defineRoute({
  method: "POST",
  path: "/v1/identity/devices/{deviceId}/verifications",
  tag: "identity",
  summary: "Start a Keychecker verification: the consent and challenge messages the device must sign",
  description:
    "Answer with both signatures at POST /v1/identity/verifications/{requestId}/responses before expiresAt.",
  params: deviceParams,
  response: "VerificationPrepared",
  errors: [404, 409, 503],
  handle: ({ params, deps }) =>
    withIdentity(deps, async (identity) => {
      const prepared = await identity.prepareVerification(params.deviceId);
      return {
        requestId: prepared.requestId,
        deviceId: prepared.deviceId,
        epoch: prepared.epoch,
        challenge: prepared.challenge,
        requesterMsp: prepared.requesterMsp,
        recipientKey: prepared.recipientKey,
        expiresAt: iso(prepared.expiresAt),
        messages: { consent: prepared.consentMessage, challenge: prepared.challengeMessage },
      };
    }),
});

export const answerVerificationRoute = defineRoute({
  method: "POST",
  path: "/v1/identity/verifications/{requestId}/responses",
  tag: "identity",
  summary: "The device's signatures: run Keychecker, record the verdict, attest it and activate the meter",
  description:
    "A failed verdict is recorded on the ledger and answered 422 with its reason; an activation the " +
    "MeterRegistry refuses is 409 (retry at …/activation once the cause is fixed).",
  params: requestParams,
  body: verificationAnswerBodySchema,
  maxBodyBytes: 4096,
  response: "VerificationResult",
  errors: [403, 404, 409, 413, 415, 422, 503],
  handle: ({ params, body, deps }) =>
    withIdentity(deps, (identity) => identity.answerVerification(params.requestId, body)),
});

export const retryActivationRoute = defineRoute({
  method: "POST",
  path: "/v1/identity/verifications/{requestId}/activation",
  tag: "identity",
  summary: "Collect the attestations of a successful verdict again and activate the meter",
  params: requestParams,
  response: "VerificationResult",
  errors: [404, 409, 503],
  handle: ({ params, deps }) => withIdentity(deps, (identity) => identity.retryActivation(params.requestId)),
});

export const identityStatusRoute = defineRoute({
  method: "GET",
  path: "/v1/identity/devices/{deviceId}",
  tag: "identity",
  summary: "A device's identity: ledger record, seal and deposits, last verification, attestations, registry",
  params: deviceParams,
  response: "IdentityStatus",
  errors: [404, 503],
  handle: ({ params, deps }) =>
    withIdentity(deps, async (identity) => {
      const s = await identity.status(params.deviceId);
      const { identity: record, lastVerification: last } = s;
      return {
        deviceId: record.deviceId,
        publicKey: record.publicKey,
        meter: record.meter,
        ownerMsp: record.ownerMsp,
        status: record.status,
        provisionedAt: record.provisionedAt,
        provisionTxId: record.provisionTxId,
        revocation: record.revocation,
        seal:
          record.seal === null
            ? null
            : {
                epoch: record.seal.epoch,
                k: record.seal.k,
                n: record.seal.n,
                verifiers: record.seal.verifiers,
                sealedAt: record.seal.sealedAt,
                txId: record.seal.txId,
                deposits: s.deposits,
              },
        lastVerification:
          last === undefined
            ? null
            : {
                requestId: last.requestId,
                epoch: last.epoch,
                status: last.status,
                reason: last.reason,
                verdictTxId: last.verdictTxId,
                attestations: s.attestations,
                activation:
                  last.activationStatus === null
                    ? null
                    : {
                        status: last.activationStatus,
                        txHash: last.activationTx,
                        error: last.activationError,
                      },
                createdAt: iso(last.createdAt),
                updatedAt: iso(last.updatedAt),
              },
        activationTx: s.activation?.activationTx ?? null,
        registry:
          s.registry === undefined
            ? null
            : { meter: s.registry.meter, owner: s.registry.owner, status: s.registry.status },
      };
    }),
});

type EventRow = {
  position: bigint;
  block_number: bigint;
  transaction_id: string;
  event_name: string;
  payload: unknown;
  received_at: Date;
};

const eventsCursor = cursorCodec("chaincode events", z.tuple([decimalKey]));

export const chaincodeEventsRoute = defineRoute({
  method: "GET",
  path: "/v1/identity/events",
  tag: "identity",
  summary: "The Secure ID chaincode event log, in ledger order",
  query: z.strictObject({
    name: chaincodeEventName.optional(),
    deviceId: deviceIdParam.optional(),
    limit: limitParam,
    cursor: eventsCursor.param,
  }),
  response: "ChaincodeEventPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.name !== undefined) c.and(`event_name = ${c.param(query.name)}`);
    if (query.deviceId !== undefined) c.and(`payload->>'deviceId' = ${c.param(query.deviceId)}`);
    if (query.cursor !== undefined) c.and(`position > ${c.param(query.cursor[0])}::bigint`);
    const { rows } = await deps.db.query<EventRow>(
      `SELECT position, block_number, transaction_id, event_name, payload, received_at
       FROM fabric_events ${c.where()} ORDER BY position LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, eventsCursor, (r) => [r.position.toString()] as [string]);
    return {
      items: page.rows.map((r) => ({
        position: r.position.toString(),
        blockNumber: r.block_number.toString(),
        txId: r.transaction_id,
        name: r.event_name,
        payload: r.payload,
        receivedAt: iso(r.received_at),
      })),
      nextCursor: page.nextCursor,
    };
  },
});

/** In the order the document lists them. */
export const identityRoutes = [
  identityVerifiersRoute,
  provisionRoute,
  identityStatusRoute,
  sealRoute,
  revocationRoute,
  prepareVerificationRoute,
  answerVerificationRoute,
  retryActivationRoute,
  chaincodeEventsRoute,
] as const;
