import {
  signaturesForActivation,
  type SignedAttestation,
  type VerifierAttestor,
} from "@gridmesh/chaincode/client";
import type { Contract } from "ethers";

import type { TransactionSender } from "../chain/transactionSender.js";
import type { ActivationStatus, AttestationRow } from "./identityStore.js";

export interface AttestationOutcome extends AttestationRow {
  signed: SignedAttestation | undefined;
}

export interface ActivationOutcome {
  status: ActivationStatus;
  txHash: string | null;
  error: string | null;
  /** The signatures submitted (or, without a gateway key, to submit), in the registry's order. */
  signatures: string[];
}

export interface MeterActivationParameters {
  attestors: readonly VerifierAttestor[];
  /** MeterRegistry, connected to the gateway's signer when it has one. */
  registry: Contract;
  /** Absent on a read-only gateway: the attestations are collected, and the owner submits them. */
  sender: TransactionSender | undefined;
}

/**
 * The last step of a verification: each verifier organisation's attestor reads the verdict from its own
 * peer and signs MeterAttestation, and with the registry's threshold of signatures by its verifiers the
 * gateway submits MeterRegistry.activate.
 */
export class MeterActivation {
  readonly #p: MeterActivationParameters;

  constructor(parameters: MeterActivationParameters) {
    this.#p = parameters;
  }

  /** Every attestor at once; a refusal (failed verdict, device revoked since) is kept with its reason. */
  async collect(requestId: string): Promise<AttestationOutcome[]> {
    return Promise.all(
      this.#p.attestors.map(async (attestor): Promise<AttestationOutcome> => {
        const verifierMsp = attestor.client.asOrg;
        const signer = (await attestor.signer.getAddress()).toLowerCase();
        try {
          const signed = await attestor.attest(requestId);
          return { verifierMsp, signer, signature: signed.signature, error: null, signed };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return { verifierMsp, signer, signature: null, error: message, signed: undefined };
        }
      }),
    );
  }

  /**
   * Submits `activate(meter, verdictTxId, signatures)` with exactly the registry's threshold of
   * signatures, all by current registry verifiers, in ascending signer order. Refusals (too few
   * attestations, the meter not enrolled, the verdict already used) come back as `failed` with the
   * reason, decoded from the contract's custom error.
   */
  async activate(
    meter: string,
    verdictTxId: string,
    attestations: readonly AttestationOutcome[],
  ): Promise<ActivationOutcome> {
    const { registry, sender } = this.#p;
    const [threshold] = (await registry.getFunction("verifierPolicy")()) as [bigint, bigint];
    const signed = attestations.flatMap((a) => (a.signed === undefined ? [] : [a.signed]));
    const isVerifier = await Promise.all(
      signed.map((s) => registry.getFunction("isVerifier")(s.signer) as Promise<boolean>),
    );
    const counted = signed.filter((_, i) => isVerifier[i]);
    const signatures = signaturesForActivation(counted).slice(0, Number(threshold));
    if (BigInt(signatures.length) < threshold) {
      const refusals = attestations
        .filter((a) => a.error !== null)
        .map((a) => `${a.verifierMsp}: ${a.error}`);
      const outsiders = signed
        .filter((_, i) => !isVerifier[i])
        .map((s) => `${s.signer} is not a registry verifier`);
      return {
        status: "failed",
        txHash: null,
        error:
          `${signatures.length} attestation(s) by registry verifiers, MeterRegistry needs ${threshold}` +
          ([...refusals, ...outsiders].length > 0 ? ` (${[...refusals, ...outsiders].join("; ")})` : ""),
        signatures,
      };
    }
    if (sender === undefined) {
      return {
        status: "not-submitted",
        txHash: null,
        error: "the gateway has no key to send transactions",
        signatures,
      };
    }
    try {
      const receipt = await sender.send(
        registry,
        "activate",
        [meter, verdictTxId, signatures],
        `activate ${meter}`,
      );
      return { status: "active", txHash: receipt.hash.toLowerCase(), error: null, signatures };
    } catch (error) {
      return {
        status: "failed",
        txHash: null,
        error: error instanceof Error ? error.message : String(error),
        signatures,
      };
    }
  }
}
