import {
  ensureVerifierOrg,
  Keychecker,
  SecureIdClient,
  VerifierAttestor,
  type AttestationSigner,
  type IdentityRecord,
  type SealSubmission,
  type SecureIdLedger,
  type VerificationOutcome,
} from "@gridmesh/chaincode/client";
import type { TypedDataDomain } from "@gridmesh/contracts";
import type { Contract } from "ethers";

import type { TransactionSender } from "../chain/transactionSender.js";
import type { Logger } from "../common/logger.js";
import type { Database } from "../store/index.js";
import { ChaincodeEventLog } from "./chaincodeEventLog.js";
import { IdentityError, identityErrorOf } from "./identityError.js";
import {
  IdentityStore,
  type AttestationRow,
  type DepositRow,
  type RegistryRow,
  type VerificationRow,
} from "./identityStore.js";
import { MeterActivation, type ActivationOutcome } from "./meterActivation.js";
import {
  RemoteVerifications,
  type DeviceSignatures,
  type PreparedVerification,
} from "./remoteVerifications.js";
import type { SecureIdConnection } from "./secureIdConnection.js";

export interface ProvisionRequest {
  deviceId: string;
  publicKey: string;
  meter: string;
  attributesHash: string;
  signature: string;
}

/** A Keymaker seal made by the device, with the shards the gateway deposits (shards[i] to verifiers[i]). */
export type SealRequest = SealSubmission;

export interface SealResult {
  deviceId: string;
  epoch: number;
  k: number;
  verifiers: string[];
  sealTxId: string;
  deposits: DepositRow[];
}

export interface VerificationResult {
  requestId: string;
  deviceId: string;
  meter: string;
  verdictTxId: string;
  attestations: AttestationRow[];
  activation: Omit<ActivationOutcome, "signatures">;
}

export interface DeviceStatus {
  identity: IdentityRecord;
  deposits: DepositRow[];
  lastVerification: VerificationRow | undefined;
  attestations: AttestationRow[];
  activation: VerificationRow | undefined;
  registry: RegistryRow | undefined;
}

export interface IdentityServiceParameters {
  db: Database;
  connection: SecureIdConnection;
  /** The utility organisation: owner of the devices it provisions, requester of their verifications. */
  ownerMsp: string;
  /** Each in-process verifier organisation's attestation key, by MSP id. */
  attestationKeys: ReadonlyMap<string, AttestationSigner>;
  /** MeterRegistry, connected to the gateway's signer when it has one. */
  registry: Contract;
  registryDomain: TypedDataDomain;
  sender: TransactionSender | undefined;
  logger: Logger;
  /** How long a prepared verification waits for the device's signatures (default 2 minutes). */
  verificationTtlMs?: number;
}

/**
 * The utility organisation's Secure ID service: it relays what devices sign (provisioning, Keymaker
 * seals with their shards, revocations) to the ledger as the owner organisation's client, runs
 * Keychecker for remote devices in two round trips, has the in-process verifier attestors sign the
 * verdict, activates the meter in MeterRegistry, and keeps the chaincode event log.
 */
export class IdentityService {
  readonly eventLog: ChaincodeEventLog;
  readonly ownerMsp: string;
  /** The Secure ID ledger this service uses (its verifier organisations read it as their own peers). */
  readonly ledger: SecureIdLedger;
  readonly ledgerKind: SecureIdConnection["kind"];
  readonly channel: string;
  readonly chaincode: string;
  readonly #p: IdentityServiceParameters;
  readonly #client: SecureIdClient;
  readonly #store: IdentityStore;
  readonly #remote: RemoteVerifications;
  readonly #activation: MeterActivation;

  private constructor(p: IdentityServiceParameters) {
    this.#p = p;
    this.ownerMsp = p.ownerMsp;
    this.ledger = p.connection.ledger;
    this.ledgerKind = p.connection.kind;
    this.channel = p.connection.channel;
    this.chaincode = p.connection.chaincode;
    this.#client = new SecureIdClient(p.connection.ledger, p.ownerMsp);
    this.#store = new IdentityStore(p.db);
    this.#remote = new RemoteVerifications({
      keychecker: new Keychecker(this.#client),
      ttlMs: p.verificationTtlMs ?? 120_000,
      onExpired: (requestId) =>
        void this.#store
          .setVerificationStatus(requestId, "expired", {
            reason: "the device's signatures did not arrive in time",
          })
          .catch((err: unknown) =>
            p.logger.warn({ err, requestId }, "could not mark a verification expired"),
          ),
    });
    this.#activation = new MeterActivation({
      attestors: [...p.attestationKeys].map(
        ([msp, signer]) =>
          new VerifierAttestor(new SecureIdClient(p.connection.ledger, msp), signer, p.registryDomain),
      ),
      registry: p.registry,
      sender: p.sender,
    });
    this.eventLog = new ChaincodeEventLog({
      db: p.db,
      ledger: p.connection.ledger,
      asOrg: p.ownerMsp,
      channel: p.connection.channel,
      chaincode: p.connection.chaincode,
      logger: p.logger.child({ part: "chaincode-events" }),
    });
  }

  /**
   * Registers each in-process verifier organisation with its attestation key (a no-op when it already
   * is), and closes the verifications a previous run left waiting: their state was in its memory.
   */
  static async start(p: IdentityServiceParameters): Promise<IdentityService> {
    for (const [msp, signer] of p.attestationKeys) {
      await ensureVerifierOrg(new SecureIdClient(p.connection.ledger, msp), await signer.getAddress());
    }
    const abandoned = await new IdentityStore(p.db).abandonUnfinished();
    if (abandoned > 0) p.logger.info({ abandoned }, "verifications of a previous run closed unanswered");
    return new IdentityService(p);
  }

  async verifiers(): Promise<{ mspId: string; attestationSigner: string; attestorHere: boolean }[]> {
    const orgs = await this.#ledger("reading the verifier organisations", () =>
      this.#client.getVerifierOrgs(),
    );
    return orgs.map((o) => ({
      mspId: o.mspId,
      attestationSigner: o.attestationSigner,
      attestorHere: this.#p.attestationKeys.has(o.mspId),
    }));
  }

  provision(request: ProvisionRequest): Promise<{ identity: IdentityRecord; txId: string }> {
    return this.#ledger(`provisioning device ${request.deviceId}`, async () => {
      const { value, txId } = await this.#client.provisionIdentity(request);
      return { identity: value, txId };
    });
  }

  /**
   * Commits the device's seal, then deposits each shard on its verifier organisation's peer alone, in
   * parallel. Fewer than k deposits leave the seal standing but unverifiable: an `unavailable` error
   * says which failed; the device seals again under the next epoch.
   */
  async seal(deviceId: string, request: SealRequest): Promise<SealResult> {
    const { value } = await this.#ledger(`sealing device ${deviceId}`, () =>
      this.#client.sealIdentity({
        deviceId,
        ciphertextHash: request.ciphertextHash,
        commitments: request.commitments,
        verifiers: request.verifiers,
        k: request.k,
        epoch: request.epoch,
        signature: request.signature,
      }),
    );
    const settled = await Promise.allSettled(
      request.verifiers.map((verifierMsp, i) =>
        this.#client.depositShard(
          deviceId,
          request.epoch,
          { ...request.shards[i]!, ciphertext: request.ciphertext },
          verifierMsp,
        ),
      ),
    );
    const deposits: DepositRow[] = settled.map((outcome, i) => ({
      verifierMsp: request.verifiers[i]!,
      txId: outcome.status === "fulfilled" ? outcome.value.txId : null,
      error: outcome.status === "rejected" ? messageOf(outcome.reason) : null,
    }));
    await this.#store.recordDeposits(deviceId, request.epoch, deposits);
    const held = deposits.filter((d) => d.txId !== null).length;
    if (held < request.k) {
      throw new IdentityError(
        "unavailable",
        `device ${deviceId} sealed (epoch ${request.epoch}, tx ${value.seal?.txId}) but only ${held} of ` +
          `${deposits.length} shard deposits succeeded, k=${request.k}: ` +
          deposits
            .filter((d) => d.error !== null)
            .map((d) => `${d.verifierMsp}: ${d.error}`)
            .join("; ") +
          `; seal again with epoch ${request.epoch + 1}`,
      );
    }
    return {
      deviceId,
      epoch: request.epoch,
      k: request.k,
      verifiers: [...request.verifiers],
      sealTxId: value.seal!.txId,
      deposits,
    };
  }

  revoke(
    deviceId: string,
    reason: string,
    signature: string,
  ): Promise<{ identity: IdentityRecord; txId: string }> {
    return this.#ledger(`revoking device ${deviceId}`, async () => {
      const { value, txId } = await this.#client.revokeIdentity(deviceId, reason, signature);
      return { identity: value, txId };
    });
  }

  /** Round trip one: the messages the device must sign for a verification by this gateway. */
  async prepareVerification(deviceId: string): Promise<PreparedVerification> {
    const identity = await this.#ledger(`verifying device ${deviceId}`, () =>
      this.#client.getIdentity(deviceId),
    );
    if (identity.status === "revoked") {
      throw new IdentityError(
        "conflict",
        `device ${deviceId} was revoked at ${identity.revocation?.at} (${identity.revocation?.reason}): it cannot be verified`,
      );
    }
    if (identity.seal === null) {
      throw new IdentityError(
        "conflict",
        `device ${deviceId} has no Keymaker seal yet: seal it before verification`,
      );
    }
    const prepared = await this.#ledger(`verifying device ${deviceId}`, () => this.#remote.prepare(deviceId));
    await this.#store.openVerification(prepared.requestId, deviceId, prepared.epoch);
    return prepared;
  }

  /**
   * Round trip two: the device's signatures. Keychecker runs to its verdict, which is recorded whatever
   * it is; a successful one is attested and the meter activated. A failed verdict, a request the ledger
   * refuses and an activation the registry refuses are IdentityErrors naming the reason.
   */
  async answerVerification(requestId: string, signatures: DeviceSignatures): Promise<VerificationResult> {
    const running = this.#remote.answer(requestId, signatures);
    if (running === undefined) throw await this.#notPending(requestId);
    await this.#store.setVerificationStatus(requestId, "verifying");
    let outcome: VerificationOutcome;
    try {
      outcome = await running;
    } catch (error) {
      const refused = identityErrorOf(error, `verification ${requestId} refused`);
      await this.#store.setVerificationStatus(requestId, "refused", { reason: refused.message });
      throw refused;
    }
    if (!outcome.ok) {
      await this.#store.setVerificationStatus(requestId, "failed", {
        reason: outcome.reason,
        verdictTxId: outcome.verdictTxId,
      });
      throw new IdentityError(
        "invalid",
        `verification ${requestId} of device ${outcome.deviceId} failed (verdict ${outcome.verdictTxId} ` +
          `is on the ledger): ${outcome.reason}`,
      );
    }
    await this.#store.setVerificationStatus(requestId, "verified", {
      reason: outcome.reason,
      verdictTxId: outcome.verdictTxId,
    });
    return this.#attestAndActivate(requestId, outcome.deviceId, outcome.verdict.meter, outcome.verdictTxId);
  }

  /** Attestations and activation again for a successful verdict whose activation did not happen. */
  async retryActivation(requestId: string): Promise<VerificationResult> {
    const row = await this.#store.verification(requestId);
    if (row === undefined) throw new IdentityError("not-found", `no verification ${requestId}`);
    if (row.status !== "verified" || row.verdictTxId === null) {
      throw new IdentityError("conflict", `verification ${requestId} is ${row.status}, not verified`);
    }
    if (row.activationStatus === "active") {
      throw new IdentityError(
        "conflict",
        `verification ${requestId} already activated the meter (${row.activationTx})`,
      );
    }
    const verdict = await this.#ledger(`reading verdict ${requestId}`, () =>
      this.#client.getVerdict(requestId),
    );
    return this.#attestAndActivate(requestId, row.deviceId, verdict.meter, row.verdictTxId);
  }

  async status(deviceId: string): Promise<DeviceStatus> {
    const identity = await this.#ledger(`reading device ${deviceId}`, () =>
      this.#client.getIdentity(deviceId),
    );
    const lastVerification = await this.#store.lastVerification(deviceId);
    return {
      identity,
      deposits: identity.seal === null ? [] : await this.#store.deposits(deviceId, identity.seal.epoch),
      lastVerification,
      attestations:
        lastVerification === undefined ? [] : await this.#store.attestations(lastVerification.requestId),
      activation: await this.#store.activatingVerification(deviceId),
      registry: await this.#store.registry(deviceId, identity.meter),
    };
  }

  /** Stops the event log, drops pending verifications, waits for running ones, closes the ledger. */
  async close(): Promise<void> {
    await this.eventLog.close();
    await this.#remote.close();
    await this.#store.abandonUnfinished();
    await this.#p.connection.ledger.close();
  }

  async #attestAndActivate(
    requestId: string,
    deviceId: string,
    meter: string,
    verdictTxId: string,
  ): Promise<VerificationResult> {
    const attestations = await this.#activation.collect(requestId);
    await this.#store.recordAttestations(requestId, attestations);
    const { signatures: _signatures, ...activation } = await this.#activation.activate(
      meter,
      verdictTxId,
      attestations,
    );
    await this.#store.recordActivation(requestId, activation);
    this.#p.logger.info({ requestId, deviceId, meter, verdictTxId, activation }, "device verified");
    if (activation.status === "failed") {
      throw new IdentityError(
        "conflict",
        `device ${deviceId} is verified (verdict ${verdictTxId}) but meter ${meter} was not activated: ${activation.error}`,
      );
    }
    return {
      requestId,
      deviceId,
      meter,
      verdictTxId,
      attestations: attestations.map(({ signed: _signed, ...row }) => row),
      activation,
    };
  }

  async #notPending(requestId: string): Promise<IdentityError> {
    const row = await this.#store.verification(requestId);
    if (row === undefined) return new IdentityError("not-found", `no verification ${requestId} was prepared`);
    return new IdentityError(
      "conflict",
      `verification ${requestId} is ${row.status}${row.reason === null ? "" : ` (${row.reason})`}; ` +
        "it takes the device's signatures once: prepare a new one",
    );
  }

  /** Runs a ledger call, turning its refusals into IdentityErrors that say what was being done. */
  async #ledger<T>(doing: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw identityErrorOf(error, doing);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
