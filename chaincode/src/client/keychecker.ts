import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";

import nacl from "tweetnacl";

import { openDocument } from "../protocol/documentBox.js";
import { verifyDeviceMessage } from "../protocol/ed25519.js";
import { SecureIdError } from "../protocol/errors.js";
import { sameDigest, sha256Hex, shardCommitment } from "../protocol/hashing.js";
import { fromHex, toHex } from "../protocol/hex.js";
import { parseDocument } from "../protocol/identityDocument.js";
import { challengeMessage, verifyMessage } from "../protocol/messages.js";
import type {
  IdentityRecord,
  RequestRecord,
  SealRecord,
  VerdictInput,
  VerdictRecord,
} from "../protocol/records.js";
import { openRelease } from "../protocol/releaseBox.js";
import { combineShards, type SourcedShard } from "../protocol/shards.js";
import type { DeviceChannel } from "./deviceIdentity.js";
import type { SecureIdClient } from "./secureIdClient.js";

export interface KeycheckerOptions {
  /** Verifier organisations to ask first, in this order; the rest of the seal's follow as fallbacks. */
  preferredVerifiers?: readonly string[];
  /** How long one shard release may take before that verifier counts as unreachable. */
  releaseTimeoutMs?: number;
}

/** Milliseconds spent in each phase of one verification. */
export interface VerificationTimings {
  consent: number;
  request: number;
  release: number;
  combine: number;
  challenge: number;
  record: number;
  total: number;
}

export interface VerificationOutcome {
  requestId: string;
  deviceId: string;
  ok: boolean;
  reason: string;
  verdict: VerdictRecord;
  /** `0x` + the Fabric transaction id of RecordVerdict: what verifiers attest to. */
  verdictTxId: string;
  shardsFrom: string[];
  releaseFailures: { verifierMsp: string; error: string }[];
  timings: VerificationTimings;
}

interface ReleasedShard extends SourcedShard {
  ciphertext: string;
}

/**
 * The requester's side of Keychecker: open a request with the device's consent, collect k shards from k
 * verifier organisations in parallel (asking the next verifier whenever one fails, so unreachable or
 * misbehaving verifiers are tolerated while k others answer), rebuild the key, decrypt and check the
 * document against the registered identity, obtain the device's challenge response, and record the
 * verdict, successful or not, on the ledger.
 */
export class Keychecker {
  readonly #timeoutMs: number;
  readonly #preferred: readonly string[];

  constructor(
    readonly client: SecureIdClient,
    options: KeycheckerOptions = {},
  ) {
    this.#timeoutMs = options.releaseTimeoutMs ?? 10_000;
    this.#preferred = options.preferredVerifiers ?? [];
  }

  async verify(deviceId: string, device: DeviceChannel): Promise<VerificationOutcome> {
    const started = performance.now();
    const lap = lapTimer();
    const identity = await this.client.getIdentity(deviceId);
    const seal = identity.seal;
    if (!seal) throw new SecureIdError("SecureIdNotSealed", `device ${deviceId} has no Keymaker seal`);
    const requestId = toHex(randomBytes(16));
    const challenge = toHex(randomBytes(32));
    const recipient = nacl.box.keyPair();
    const consentSignature = await device.consentToVerification(
      verifyMessage({
        requestId,
        deviceId,
        epoch: seal.epoch,
        challenge,
        requesterMsp: this.client.asOrg,
        recipientKey: toHex(recipient.publicKey),
      }),
    );
    const consent = lap();
    const { value: request } = await this.client.requestVerification({
      requestId,
      deviceId,
      epoch: seal.epoch,
      challenge,
      recipientKey: toHex(recipient.publicKey),
      consentSignature,
    });
    const requested = lap();

    const { shards, failures } = await this.#collectShards(request, seal, recipient.secretKey);
    recipient.secretKey.fill(0);
    const released = lap();

    // A failure from here on is the device's or the verifiers', not the requester's: it becomes a verdict.
    let verdict: VerdictInput;
    let challengeResponse = "";
    let combined = 0;
    let challenged = 0;
    try {
      const documentHash = await checkDocument(identity, seal, shards, failures);
      combined = lap();
      const expected = challengeMessage({ requestId, deviceId, challenge });
      challengeResponse = await device.respondToChallenge(expected);
      challenged = lap();
      if (!verifyDeviceMessage(identity.publicKey, expected, challengeResponse)) {
        throw new SecureIdError(
          "SecureIdBadChallengeResponse",
          `the device's response to challenge ${challenge} is not its signature`,
        );
      }
      verdict = { ok: true, reason: "verified", documentHash, shardIndices: shards.map((s) => s.index) };
    } catch (error) {
      if (combined === 0) combined = lap();
      else if (challenged === 0) challenged = lap();
      verdict = {
        ok: false,
        reason: (error instanceof Error ? error.message : String(error)).slice(0, 500),
        documentHash: null,
        shardIndices: shards.map((s) => s.index),
      };
      challengeResponse = "";
    }
    const { value: record } = await this.client.recordVerdict(requestId, verdict, challengeResponse);
    const recorded = lap();
    return {
      requestId,
      deviceId,
      ok: record.ok,
      reason: record.reason,
      verdict: record,
      verdictTxId: record.verdictTxId,
      shardsFrom: shards.map((s) => s.source),
      releaseFailures: failures,
      timings: {
        consent,
        request: requested,
        release: released,
        combine: combined,
        challenge: challenged,
        record: recorded,
        total: performance.now() - started,
      },
    };
  }

  /** Asks k verifiers at once and replaces each one that fails with the next, until k valid shards. */
  async #collectShards(
    request: RequestRecord,
    seal: SealRecord,
    recipientSecret: Uint8Array,
  ): Promise<{ shards: ReleasedShard[]; failures: { verifierMsp: string; error: string }[] }> {
    const candidates = [
      ...this.#preferred.filter((v) => seal.verifiers.includes(v)),
      ...seal.verifiers.filter((v) => !this.#preferred.includes(v)),
    ];
    const shards: ReleasedShard[] = [];
    const failures: { verifierMsp: string; error: string }[] = [];
    let next = 0;
    let inFlight = 0;
    await new Promise<void>((resolve) => {
      const launch = () => {
        while (shards.length + inFlight < seal.k && next < candidates.length) {
          const verifierMsp = candidates[next++]!;
          inFlight++;
          this.#releaseFrom(verifierMsp, request, seal, recipientSecret)
            .then(
              (shard) => void shards.push(shard),
              (error: unknown) =>
                void failures.push({
                  verifierMsp,
                  error: error instanceof Error ? error.message : String(error),
                }),
            )
            .finally(() => {
              inFlight--;
              launch();
              if (inFlight === 0) resolve();
            });
        }
      };
      launch();
      if (inFlight === 0) resolve();
    });
    return { shards, failures };
  }

  async #releaseFrom(
    verifierMsp: string,
    request: RequestRecord,
    seal: SealRecord,
    recipientSecret: Uint8Array,
  ): Promise<ReleasedShard> {
    const sealed = await withTimeout(
      this.client.releaseShard(request.requestId, verifierMsp),
      this.#timeoutMs,
      verifierMsp,
    );
    const payload = openRelease(sealed, recipientSecret, {
      requestId: request.requestId,
      deviceId: request.deviceId,
      verifierMsp,
    });
    const index = seal.verifiers.indexOf(verifierMsp);
    if (payload.index !== index || payload.epoch !== seal.epoch) {
      throw new SecureIdError(
        "SecureIdBadRelease",
        `${verifierMsp} released shard ${payload.index} of epoch ${payload.epoch}, expected ${index} of ${seal.epoch}`,
      );
    }
    // Checked here, not only when combining, so a bad shard makes us ask another verifier.
    const commitment = shardCommitment(fromHex(payload.salt, "salt", 32), fromHex(payload.shard, "shard"));
    if (!sameDigest(commitment, seal.commitments[index]!)) {
      throw new SecureIdError(
        "SecureIdCommitmentMismatch",
        `shard ${index} from ${verifierMsp} does not match its commitment ${seal.commitments[index]}`,
      );
    }
    return {
      index,
      shard: payload.shard,
      salt: payload.salt,
      source: verifierMsp,
      ciphertext: payload.ciphertext,
    };
  }
}

/** Rebuilds the key, decrypts the document and checks it is the registered one; returns its hash. */
async function checkDocument(
  identity: IdentityRecord,
  seal: SealRecord,
  shards: readonly ReleasedShard[],
  failures: readonly { verifierMsp: string; error: string }[],
): Promise<string> {
  if (shards.length < seal.k) {
    throw new SecureIdError(
      "SecureIdTooFewShards",
      `${shards.length} of k=${seal.k} shards released` +
        (failures.length > 0 ? ` (${failures.map((f) => `${f.verifierMsp}: ${f.error}`).join("; ")})` : ""),
    );
  }
  const key = await combineShards(shards, seal.commitments, seal.k);
  const copy = shards.find((s) =>
    sameDigest(sha256Hex(fromHex(s.ciphertext, "ciphertext")), seal.ciphertextHash),
  );
  if (!copy) {
    throw new SecureIdError(
      "SecureIdCiphertextMismatch",
      `no released ciphertext matches ${seal.ciphertextHash} (from ${shards.map((s) => s.source).join(", ")})`,
    );
  }
  const plaintext = openDocument(fromHex(copy.ciphertext, "ciphertext"), key);
  key.fill(0);
  const { document, hash } = parseDocument(plaintext);
  const mismatches = [
    hash !== identity.attributesHash && `hash ${hash} ≠ registered ${identity.attributesHash}`,
    document.deviceId !== identity.deviceId && `deviceId ${document.deviceId}`,
    document.publicKey !== identity.publicKey && `publicKey ${document.publicKey}`,
    document.meter !== identity.meter && `meter ${document.meter} ≠ ${identity.meter}`,
    document.ownerMsp !== identity.ownerMsp && `ownerMsp ${document.ownerMsp} ≠ ${identity.ownerMsp}`,
  ].filter(Boolean);
  if (mismatches.length > 0) {
    throw new SecureIdError(
      "SecureIdDocumentMismatch",
      `decrypted document differs: ${mismatches.join(", ")}`,
    );
  }
  return hash;
}

function lapTimer(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = now - last;
    last = now;
    return elapsed;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, verifierMsp: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${verifierMsp} did not release its shard within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
