import {
  challengeMessage,
  type DeviceChannel,
  type Keychecker,
  type VerificationOutcome,
} from "@gridmesh/chaincode/client";

import { IdentityError } from "./identityError.js";

/** The device's consent to one verification (the protocol's `verify` message). */
export type ConsentMessage = Parameters<DeviceChannel["consentToVerification"]>[0];
/** What proves the device holds its key now (the protocol's `challenge` message). */
export type ChallengeMessage = Parameters<DeviceChannel["respondToChallenge"]>[0];

export interface PreparedVerification {
  requestId: string;
  deviceId: string;
  epoch: number;
  challenge: string;
  requesterMsp: string;
  recipientKey: string;
  /** The device's signatures must arrive before this, or the verification is dropped. */
  expiresAt: Date;
  consentMessage: ConsentMessage;
  challengeMessage: ChallengeMessage;
}

export interface DeviceSignatures {
  consentSignature: string;
  challengeSignature: string;
}

export interface RemoteVerificationsParameters {
  keychecker: Keychecker;
  /** How long a prepared verification waits for the device's signatures. */
  ttlMs: number;
  /** Verifications waiting at once; anyone may start one, so memory is bounded here (default 1,000). */
  maxPending?: number;
  /** Called when a prepared verification is dropped unanswered. */
  onExpired(requestId: string): void;
}

interface Pending {
  prepared: PreparedVerification;
  answer(signatures: DeviceSignatures | Error): void;
  outcome: Promise<VerificationOutcome>;
  timer: NodeJS.Timeout;
}

/**
 * Keychecker for a device that is not in the process: verification in two round trips. `prepare`
 * starts Keychecker, which draws the request id, challenge and one-time recipient key and asks for the
 * device's consent; the consent message (and the challenge message, which follows from it) go back to
 * the device, while Keychecker waits. `answer` gives it the device's two signatures: Keychecker then
 * opens the request on the ledger, gathers k shards, decrypts and checks the document, checks the
 * challenge signature and records the verdict. The recipient key's secret never leaves Keychecker.
 *
 * Both signatures come at once, so the challenge is signed before the shards are released rather than
 * after; it is still fresh (drawn for this request) and single-use (the ledger refuses it twice).
 * Pending verifications live in this process only: a restart drops them.
 */
export class RemoteVerifications {
  readonly #p: RemoteVerificationsParameters;
  readonly #pending = new Map<string, Pending>();
  readonly #running = new Set<Promise<unknown>>();

  constructor(parameters: RemoteVerificationsParameters) {
    this.#p = parameters;
  }

  async prepare(deviceId: string): Promise<PreparedVerification> {
    const maxPending = this.#p.maxPending ?? 1_000;
    if (this.#pending.size >= maxPending) {
      throw new IdentityError(
        "unavailable",
        `${maxPending} verifications are already waiting for their devices' signatures; try again later`,
      );
    }
    let answer!: (signatures: DeviceSignatures | Error) => void;
    const answered = new Promise<DeviceSignatures>((resolve, reject) => {
      answer = (s) => (s instanceof Error ? reject(s) : resolve(s));
    });
    answered.catch(() => undefined);
    let asked!: (message: ConsentMessage) => void;
    const consentAsked = new Promise<ConsentMessage>((resolve) => (asked = resolve));

    const channel: DeviceChannel = {
      async consentToVerification(message) {
        asked(message);
        return (await answered).consentSignature;
      },
      async respondToChallenge(message) {
        const signatures = await answered;
        if (!sameChallenge(message, challengeFor(await consentAsked))) {
          throw new Error(
            `Keychecker asked for a challenge message other than the one given to the device: ${JSON.stringify(message)}`,
          );
        }
        return signatures.challengeSignature;
      },
    };
    const outcome = this.#p.keychecker.verify(deviceId, channel);
    this.#track(outcome);
    // Keychecker either asks for consent or fails first (device unknown, not sealed, ledger down).
    const consentMessage = await Promise.race([
      consentAsked,
      outcome.then(() => {
        throw new Error("Keychecker finished without asking for the device's consent");
      }),
    ]);
    const prepared: PreparedVerification = {
      requestId: consentMessage.requestId,
      deviceId: consentMessage.deviceId,
      epoch: consentMessage.epoch,
      challenge: consentMessage.challenge,
      requesterMsp: consentMessage.requesterMsp,
      recipientKey: consentMessage.recipientKey,
      expiresAt: new Date(Date.now() + this.#p.ttlMs),
      consentMessage,
      challengeMessage: challengeFor(consentMessage),
    };
    const timer = setTimeout(() => {
      if (!this.#pending.delete(prepared.requestId)) return;
      answer(new IdentityError("conflict", `verification ${prepared.requestId} expired unanswered`));
      this.#p.onExpired(prepared.requestId);
    }, this.#p.ttlMs);
    timer.unref();
    this.#pending.set(prepared.requestId, { prepared, answer, outcome, timer });
    return prepared;
  }

  isPending(requestId: string): boolean {
    return this.#pending.has(requestId);
  }

  /**
   * Hands the device's signatures to the Keychecker waiting on `requestId` and resolves with its
   * outcome (a verdict, successful or not), or rejects with what the ledger refused (e.g. a forged
   * consent). Undefined when no such verification is pending; each is answered once.
   */
  answer(requestId: string, signatures: DeviceSignatures): Promise<VerificationOutcome> | undefined {
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return undefined;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.answer(signatures);
    return pending.outcome;
  }

  /** Drops every pending verification and waits for the running ones to end. */
  async close(): Promise<void> {
    for (const [requestId, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.answer(
        new IdentityError("unavailable", `the gateway stopped before verification ${requestId}`),
      );
    }
    this.#pending.clear();
    await Promise.allSettled([...this.#running]);
  }

  #track(outcome: Promise<unknown>): void {
    const settled = outcome.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
  }
}

/** The challenge message of the request a consent is for: what Keychecker will ask the device to sign. */
function challengeFor(consent: ConsentMessage): ChallengeMessage {
  return challengeMessage({
    requestId: consent.requestId,
    deviceId: consent.deviceId,
    challenge: consent.challenge,
  });
}

function sameChallenge(a: ChallengeMessage, b: ChallengeMessage): boolean {
  return (
    a.type === b.type &&
    a.requestId === b.requestId &&
    a.deviceId === b.deviceId &&
    a.challenge === b.challenge
  );
}
