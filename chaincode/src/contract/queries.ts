import type { Context } from "fabric-contract-api";

import { unmarshal } from "../marshal.js";
import { SecureIdError } from "../protocol/errors.js";
import { bytes32, requestId as requestIdSchema } from "../protocol/hex.js";
import {
  identityRecordSchema,
  requestRecordSchema,
  verdictRecordSchema,
  verifierOrgRecordSchema,
  type HistoryEntry,
  type IdentityRecord,
  type RequestRecord,
  type VerdictRecord,
  type VerifierOrgRecord,
} from "../protocol/records.js";
import { requireIdentity } from "./identityTransactions.js";
import { keys } from "./keys.js";
import { parseArg, readRecord } from "./txContext.js";

export async function getIdentity(ctx: Context, deviceId: string): Promise<IdentityRecord> {
  return requireIdentity(ctx, parseArg(bytes32, deviceId, "deviceId"));
}

export async function getRequest(ctx: Context, requestIdArg: string): Promise<RequestRecord> {
  const requestId = parseArg(requestIdSchema, requestIdArg, "requestId");
  const request = await readRecord(
    ctx,
    keys.request(ctx.stub, requestId),
    requestRecordSchema,
    `request ${requestId}`,
  );
  if (!request) throw new SecureIdError("SecureIdRequestNotFound", `request ${requestId} does not exist`);
  return request;
}

export async function getRequestVerdict(ctx: Context, requestIdArg: string): Promise<VerdictRecord> {
  const requestId = parseArg(requestIdSchema, requestIdArg, "requestId");
  const verdict = await readRecord(
    ctx,
    keys.verdict(ctx.stub, requestId),
    verdictRecordSchema,
    `verdict ${requestId}`,
  );
  if (!verdict) throw new SecureIdError("SecureIdVerdictNotFound", `request ${requestId} has no verdict`);
  return verdict;
}

/** Every committed version of the identity, newest first (Fabric's order), deletions included. */
export async function getIdentityHistory(ctx: Context, deviceIdArg: string): Promise<HistoryEntry[]> {
  const deviceId = parseArg(bytes32, deviceIdArg, "deviceId");
  const entries: HistoryEntry[] = [];
  for await (const modification of ctx.stub.getHistoryForKey(keys.identity(ctx.stub, deviceId))) {
    const ts = modification.timestamp;
    const ms = Number(ts.seconds.toString()) * 1000 + Math.floor(ts.nanos / 1e6);
    entries.push({
      txId: modification.txId,
      timestamp: new Date(ms).toISOString(),
      isDelete: modification.isDelete,
      record: modification.isDelete
        ? null
        : identityRecordSchema.parse(unmarshal(modification.value, `history of ${deviceId}`)),
    });
  }
  return entries;
}

export async function getVerifierOrgs(ctx: Context): Promise<VerifierOrgRecord[]> {
  const orgs: VerifierOrgRecord[] = [];
  for await (const kv of ctx.stub.getStateByPartialCompositeKey("verifierOrg", [])) {
    orgs.push(verifierOrgRecordSchema.parse(unmarshal(kv.value, `verifier organisation ${kv.key}`)));
  }
  return orgs;
}
