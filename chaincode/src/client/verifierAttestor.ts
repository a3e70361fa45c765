import {
  mutableTypes,
  meterAttestationTypes,
  type MeterAttestation,
  type TypedDataDomain,
} from "@gridmesh/contracts";
import { verifyTypedData } from "ethers";

import { SecureIdError } from "../protocol/errors.js";
import type { SecureIdClient } from "./secureIdClient.js";

/** What signs attestations: an ethers Wallet, or any signer with the same two methods. */
export interface AttestationSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, { name: string; type: string }[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

export interface SignedAttestation {
  attestation: MeterAttestation;
  signer: string;
  signature: string;
}

/**
 * A verifier organisation's last step: read the verdict from its own peer, check it succeeded and the
 * device is still live and bound to the same meter, then sign the EIP-712 MeterAttestation that
 * MeterRegistry.activate counts. The verifier trusts its own peer's copy of the ledger, not the requester.
 */
export class VerifierAttestor {
  constructor(
    readonly client: SecureIdClient,
    readonly signer: AttestationSigner,
    readonly domain: TypedDataDomain,
  ) {}

  async attest(requestId: string): Promise<SignedAttestation> {
    const own = this.client.asOrg;
    const verdict = await this.client.getVerdict(requestId, own);
    if (!verdict.ok) {
      throw new SecureIdError(
        "SecureIdVerdictFailed",
        `verdict ${verdict.verdictTxId} of ${requestId} failed: ${verdict.reason}`,
      );
    }
    const identity = await this.client.getIdentity(verdict.deviceId, own);
    if (identity.status !== "active") {
      throw new SecureIdError(
        "SecureIdVerdictStale",
        `device ${identity.deviceId} was revoked after verdict ${verdict.verdictTxId}`,
      );
    }
    if (identity.meter !== verdict.meter) {
      throw new SecureIdError(
        "SecureIdVerdictStale",
        `device ${identity.deviceId} is now bound to ${identity.meter}, not ${verdict.meter}`,
      );
    }
    const attestation: MeterAttestation = {
      deviceId: verdict.deviceId as MeterAttestation["deviceId"],
      meter: verdict.meter as MeterAttestation["meter"],
      verdictTxId: verdict.verdictTxId as MeterAttestation["verdictTxId"],
    };
    const signature = await this.signer.signTypedData(this.domain, mutableTypes(meterAttestationTypes), {
      ...attestation,
    });
    return { attestation, signer: (await this.signer.getAddress()).toLowerCase(), signature };
  }
}

export function recoverAttestationSigner(domain: TypedDataDomain, signed: SignedAttestation): string {
  return verifyTypedData(
    domain,
    mutableTypes(meterAttestationTypes),
    signed.attestation,
    signed.signature,
  ).toLowerCase();
}

/** MeterRegistry.activate takes the signatures in ascending order of signer address, one per signer. */
export function signaturesForActivation(attestations: readonly SignedAttestation[]): string[] {
  const bySigner = new Map(attestations.map((a) => [BigInt(a.signer), a.signature]));
  return [...bySigner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, signature]) => signature);
}
