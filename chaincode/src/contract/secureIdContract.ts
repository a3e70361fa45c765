import { Contract, type Context } from "fabric-contract-api";

import { canonicalJson } from "../marshal.js";
import {
  deregisterIdentity,
  provisionIdentity,
  registerVerifierOrg,
  revokeIdentity,
} from "./identityTransactions.js";
import { recordVerdict, releaseShard, requestVerification } from "./keycheckerTransactions.js";
import { depositShard, sealIdentity } from "./keymakerTransactions.js";
import {
  getIdentity,
  getIdentityHistory,
  getRequest,
  getRequestVerdict,
  getVerifierOrgs,
} from "./queries.js";

/**
 * The Secure ID contract: device identities, Keymaker (seal, then one shard deposit per verifier
 * organisation) and Keychecker (request, shard releases, verdict). Every method of this class is a
 * transaction function taking string arguments (structured ones as JSON) and returning canonical JSON;
 * tsx does not emit decorator metadata, so fabric-contract-api finds them by introspection, and the
 * logic lives in module functions that introspection cannot see.
 */
export class SecureId extends Contract {
  constructor() {
    super("SecureId");
  }

  async RegisterVerifierOrg(ctx: Context, attestationSigner: string): Promise<string> {
    return canonicalJson(await registerVerifierOrg(ctx, attestationSigner));
  }

  async ProvisionIdentity(
    ctx: Context,
    deviceId: string,
    publicKey: string,
    meter: string,
    attributesHash: string,
    signature: string,
  ): Promise<string> {
    return canonicalJson(
      await provisionIdentity(ctx, { deviceId, publicKey, meter, attributesHash, signature }),
    );
  }

  async SealIdentity(
    ctx: Context,
    deviceId: string,
    ciphertextHash: string,
    commitments: string,
    verifiers: string,
    k: string,
    epoch: string,
    signature: string,
  ): Promise<string> {
    return canonicalJson(
      await sealIdentity(ctx, { deviceId, ciphertextHash, commitments, verifiers, k, epoch, signature }),
    );
  }

  async DepositShard(ctx: Context, deviceId: string, epoch: string): Promise<string> {
    return canonicalJson(await depositShard(ctx, { deviceId, epoch }));
  }

  async RequestVerification(
    ctx: Context,
    requestId: string,
    deviceId: string,
    epoch: string,
    challenge: string,
    recipientKey: string,
    consentSignature: string,
  ): Promise<string> {
    return canonicalJson(
      await requestVerification(ctx, {
        requestId,
        deviceId,
        epoch,
        challenge,
        recipientKey,
        consentSignature,
      }),
    );
  }

  async ReleaseShard(ctx: Context, requestId: string): Promise<string> {
    return canonicalJson(await releaseShard(ctx, requestId));
  }

  async RecordVerdict(
    ctx: Context,
    requestId: string,
    verdict: string,
    challengeResponse: string,
  ): Promise<string> {
    return canonicalJson(await recordVerdict(ctx, { requestId, verdict, challengeResponse }));
  }

  async RevokeIdentity(ctx: Context, deviceId: string, reason: string, signature: string): Promise<string> {
    return canonicalJson(await revokeIdentity(ctx, { deviceId, reason, signature }));
  }

  async DeregisterIdentity(ctx: Context, deviceId: string, signature: string): Promise<string> {
    return canonicalJson(await deregisterIdentity(ctx, { deviceId, signature }));
  }

  async GetIdentity(ctx: Context, deviceId: string): Promise<string> {
    return canonicalJson(await getIdentity(ctx, deviceId));
  }

  async GetIdentityHistory(ctx: Context, deviceId: string): Promise<string> {
    return canonicalJson(await getIdentityHistory(ctx, deviceId));
  }

  async GetRequest(ctx: Context, requestId: string): Promise<string> {
    return canonicalJson(await getRequest(ctx, requestId));
  }

  async GetVerdict(ctx: Context, requestId: string): Promise<string> {
    return canonicalJson(await getRequestVerdict(ctx, requestId));
  }

  async GetVerifierOrgs(ctx: Context): Promise<string> {
    return canonicalJson(await getVerifierOrgs(ctx));
  }
}
