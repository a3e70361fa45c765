import { randomBytes } from "node:crypto";

import nacl from "tweetnacl";

import { DeviceIdentity } from "../client/deviceIdentity.js";
import { Keychecker } from "../client/keychecker.js";
import type { SecureIdClient } from "../client/secureIdClient.js";
import { SecureIdLedgerError } from "../client/secureIdLedger.js";
import { toHex } from "../protocol/hex.js";
import { challengeMessage, verifyMessage } from "../protocol/messages.js";
import type { IdentityRecord } from "../protocol/records.js";

/** A device enrolled for the benchmark, with what an attacker may have captured from it. */
export interface BenchDevice {
  device: DeviceIdentity;
  identity: IdentityRecord;
  /** A challenge response the device gave for an earlier, finished request. */
  capturedResponse?: string;
}

/** How an adversarial verification ended: accepted (a false positive) or refused, and where. */
export interface AttackResult {
  accepted: boolean;
  refusal: string;
}

export type Attack = (client: SecureIdClient, target: BenchDevice) => Promise<AttackResult>;

/**
 * Each attack tries to obtain a successful verdict it should not. Those going through the Keychecker show
 * that the requester's checks hold; the "direct" ones skip the requester's checks and submit straight to
 * the chaincode, showing that the ledger itself refuses.
 */
export const ATTACKS: Record<string, { on: "honest" | "revoked" | "forged-document"; run: Attack }> = {
  /** Someone without the device key answers the challenge. */
  "impostor response": {
    on: "honest",
    run: async (client, { device }) => {
      const impostor = DeviceIdentity.generate();
      const outcome = await new Keychecker(client).verify(device.deviceId, {
        consentToVerification: (m) => device.consentToVerification(m),
        respondToChallenge: (m) => Promise.resolve(impostor.sign(m)),
      });
      return { accepted: outcome.ok, refusal: outcome.reason };
    },
  },
  /** A response captured from an earlier verification, submitted directly as a successful verdict. */
  "replayed response (direct)": {
    on: "honest",
    run: async (client, target) =>
      refusedBy(async () => {
        const { requestId } = await openRequest(client, target);
        const verdict = {
          ok: true,
          reason: "",
          documentHash: target.identity.attributesHash,
          shardIndices: [0, 1],
        };
        return (await client.recordVerdict(requestId, verdict, target.capturedResponse ?? "")).value.ok;
      }),
  },
  /** A verification request with consent signed by a key that is not the device's. */
  "forged consent (direct)": {
    on: "honest",
    run: async (client, target) =>
      refusedBy(async () => (await openRequest(client, target, DeviceIdentity.generate())).ok),
  },
  /** A revoked device asks to be verified again. */
  "revoked device": {
    on: "revoked",
    run: async (client, { device }) =>
      refusedBy(async () => (await new Keychecker(client).verify(device.deviceId, device)).ok),
  },
  /** The device sealed a document other than the one it registered. */
  "sealed document differs": {
    on: "forged-document",
    run: async (client, { device }) => {
      const outcome = await new Keychecker(client).verify(device.deviceId, device);
      return { accepted: outcome.ok, refusal: outcome.reason };
    },
  },
};

async function openRequest(
  client: SecureIdClient,
  target: BenchDevice,
  signer: DeviceIdentity = target.device,
) {
  const epoch = target.identity.seal?.epoch ?? 1;
  const fields = {
    requestId: toHex(randomBytes(16)),
    deviceId: target.device.deviceId,
    epoch,
    challenge: toHex(randomBytes(32)),
    recipientKey: toHex(nacl.box.keyPair().publicKey),
  };
  const consentSignature = signer.sign(verifyMessage({ ...fields, requesterMsp: client.asOrg }));
  await client.requestVerification({ ...fields, consentSignature });
  return { requestId: fields.requestId, ok: true };
}

/** Runs an attack step; a refusal by the ledger (or a failed verdict) is the expected outcome. */
async function refusedBy(attempt: () => Promise<boolean>): Promise<AttackResult> {
  try {
    const accepted = await attempt();
    return { accepted, refusal: accepted ? "" : "failed verdict" };
  } catch (error) {
    if (error instanceof SecureIdLedgerError && error.code) return { accepted: false, refusal: error.code };
    throw error;
  }
}

/** A response the device really gave, for a request that is now closed: the replay attack's material. */
export async function captureResponse(client: SecureIdClient, target: BenchDevice): Promise<string> {
  const { requestId } = await openRequest(client, target);
  const request = await client.getRequest(requestId);
  const response = target.device.sign(
    challengeMessage({ requestId, deviceId: target.device.deviceId, challenge: request.challenge }),
  );
  await client.recordVerdict(
    requestId,
    { ok: false, reason: "capture", documentHash: null, shardIndices: [] },
    "",
  );
  return response;
}
