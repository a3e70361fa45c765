import { z } from "zod";

import { canonicalJson, unmarshal } from "../marshal.js";
import {
  DEPOSIT_TRANSIENT_KEY,
  depositResultSchema,
  deregistrationSchema,
  historyEntrySchema,
  identityRecordSchema,
  requestRecordSchema,
  verdictRecordSchema,
  verifierOrgRecordSchema,
  type DepositResult,
  type DepositTransient,
  type Deregistration,
  type HistoryEntry,
  type IdentityRecord,
  type RequestRecord,
  type VerdictInput,
  type VerdictRecord,
  type VerifierOrgRecord,
} from "../protocol/records.js";
import { sealedReleaseSchema, type SealedRelease } from "../protocol/releaseBox.js";
import type { SecureIdLedger } from "./secureIdLedger.js";

export interface Submitted<T> {
  value: T;
  txId: string;
  blockNumber: bigint;
}

/**
 * The SecureId chaincode's transactions with types, for one organisation's client identity: arguments
 * encoded the way the contract takes them, results parsed with the protocol's schemas.
 */
export class SecureIdClient {
  constructor(
    readonly ledger: SecureIdLedger,
    readonly asOrg: string,
  ) {}

  registerVerifierOrg(attestationSigner: string): Promise<Submitted<VerifierOrgRecord>> {
    return this.#submit("RegisterVerifierOrg", [attestationSigner.toLowerCase()], verifierOrgRecordSchema);
  }

  provisionIdentity(args: {
    deviceId: string;
    publicKey: string;
    meter: string;
    attributesHash: string;
    signature: string;
  }): Promise<Submitted<IdentityRecord>> {
    return this.#submit(
      "ProvisionIdentity",
      [args.deviceId, args.publicKey, args.meter, args.attributesHash, args.signature],
      identityRecordSchema,
    );
  }

  sealIdentity(args: {
    deviceId: string;
    ciphertextHash: string;
    commitments: readonly string[];
    verifiers: readonly string[];
    k: number;
    epoch: number;
    signature: string;
  }): Promise<Submitted<IdentityRecord>> {
    return this.#submit(
      "SealIdentity",
      [
        args.deviceId,
        args.ciphertextHash,
        JSON.stringify(args.commitments),
        JSON.stringify(args.verifiers),
        String(args.k),
        String(args.epoch),
        args.signature,
      ],
      identityRecordSchema,
    );
  }

  /** Sent to `verifierMsp`'s peer alone, the only one that may see the transient shard. */
  depositShard(
    deviceId: string,
    epoch: number,
    deposit: DepositTransient,
    verifierMsp: string,
  ): Promise<Submitted<DepositResult>> {
    return this.#submit("DepositShard", [deviceId, String(epoch)], depositResultSchema, {
      transient: { [DEPOSIT_TRANSIENT_KEY]: new TextEncoder().encode(canonicalJson(deposit)) },
      endorsingOrgs: [verifierMsp],
    });
  }

  requestVerification(args: {
    requestId: string;
    deviceId: string;
    epoch: number;
    challenge: string;
    recipientKey: string;
    consentSignature: string;
  }): Promise<Submitted<RequestRecord>> {
    return this.#submit(
      "RequestVerification",
      [
        args.requestId,
        args.deviceId,
        String(args.epoch),
        args.challenge,
        args.recipientKey,
        args.consentSignature,
      ],
      requestRecordSchema,
    );
  }

  /** Evaluated on `verifierMsp`'s peer, never submitted. */
  releaseShard(requestId: string, verifierMsp: string): Promise<SealedRelease> {
    return this.#evaluate("ReleaseShard", [requestId], sealedReleaseSchema, verifierMsp);
  }

  recordVerdict(
    requestId: string,
    verdict: VerdictInput,
    challengeResponse: string,
  ): Promise<Submitted<VerdictRecord>> {
    return this.#submit(
      "RecordVerdict",
      [requestId, canonicalJson(verdict), challengeResponse],
      verdictRecordSchema,
    );
  }

  /** `signature` empty: revocation by the owner organisation, which must be this client's. */
  revokeIdentity(deviceId: string, reason: string, signature = ""): Promise<Submitted<IdentityRecord>> {
    return this.#submit("RevokeIdentity", [deviceId, reason, signature], identityRecordSchema);
  }

  deregisterIdentity(deviceId: string, signature = ""): Promise<Submitted<Deregistration>> {
    return this.#submit("DeregisterIdentity", [deviceId, signature], deregistrationSchema);
  }

  getIdentity(deviceId: string, targetOrg?: string): Promise<IdentityRecord> {
    return this.#evaluate("GetIdentity", [deviceId], identityRecordSchema, targetOrg);
  }

  getIdentityHistory(deviceId: string, targetOrg?: string): Promise<HistoryEntry[]> {
    return this.#evaluate("GetIdentityHistory", [deviceId], z.array(historyEntrySchema), targetOrg);
  }

  getRequest(requestId: string, targetOrg?: string): Promise<RequestRecord> {
    return this.#evaluate("GetRequest", [requestId], requestRecordSchema, targetOrg);
  }

  getVerdict(requestId: string, targetOrg?: string): Promise<VerdictRecord> {
    return this.#evaluate("GetVerdict", [requestId], verdictRecordSchema, targetOrg);
  }

  getVerifierOrgs(targetOrg?: string): Promise<VerifierOrgRecord[]> {
    return this.#evaluate("GetVerifierOrgs", [], z.array(verifierOrgRecordSchema), targetOrg);
  }

  async #submit<S extends z.ZodType>(
    fn: string,
    args: string[],
    schema: S,
    options: { transient?: Record<string, Uint8Array>; endorsingOrgs?: string[] } = {},
  ): Promise<Submitted<z.infer<S>>> {
    const { txId, blockNumber, result } = await this.ledger.submit(fn, args, {
      asOrg: this.asOrg,
      ...options,
    });
    return { value: schema.parse(unmarshal(result, `${fn} result`)), txId, blockNumber };
  }

  async #evaluate<S extends z.ZodType>(
    fn: string,
    args: string[],
    schema: S,
    targetOrg?: string,
  ): Promise<z.infer<S>> {
    const result = await this.ledger.evaluate(fn, args, {
      asOrg: this.asOrg,
      ...(targetOrg ? { targetOrg } : {}),
    });
    return schema.parse(unmarshal(result, `${fn} result`));
  }
}
