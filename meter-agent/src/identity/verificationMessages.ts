import {
  MESSAGE_TYPES,
  challengeMessage,
  verifyMessage,
  type ChallengeMessage,
  type DeviceIdentity,
  type VerifyMessage,
} from "@gridmesh/chaincode/client";

import type { PreparedAnswer } from "./gatewayIdentitySchemas.js";
import { DeviceMessageError } from "./identityErrors.js";

/** What the device knows about itself and holds the gateway's requests to. */
export interface VerificationExpectations {
  deviceId: string;
  /** The organisation the device was provisioned under: the only requester it consents to. */
  requesterMsp?: string | undefined;
  /** The epoch of the seal the device made; consent to verify another is refused. */
  epoch?: number | undefined;
}

export interface SignedVerification {
  consent: VerifyMessage;
  challenge: ChallengeMessage;
  consentSignature: string;
  challengeSignature: string;
}

const CONSENT_FIELDS = [
  "challenge",
  "deviceId",
  "epoch",
  "recipientKey",
  "requestId",
  "requesterMsp",
  "type",
];
const CHALLENGE_FIELDS = ["challenge", "deviceId", "requestId", "type"];

/**
 * Checks the two messages a gateway asks the device to sign for a verification and returns them rebuilt
 * from their checked fields. The device signs nothing it did not check: each message must be of its own
 * type, for this device, with exactly the protocol's fields, and agree with the request the gateway
 * describes (request id, challenge, epoch, requester, recipient key) and with each other. A relay that
 * slipped in another device's consent, a revocation or a message of another purpose is refused.
 */
export function checkVerificationMessages(
  prepared: PreparedAnswer,
  expected: VerificationExpectations,
): { consent: VerifyMessage; challenge: ChallengeMessage } {
  const { consent, challenge } = prepared.messages;
  const refuse = (why: string) =>
    new DeviceMessageError(`refusing to sign for verification ${prepared.requestId}: ${why}`, {
      details: { requestId: prepared.requestId, deviceId: expected.deviceId },
    });
  if (consent.type !== MESSAGE_TYPES.verify) {
    throw refuse(`the consent message is of type ${String(consent.type)}, not ${MESSAGE_TYPES.verify}`);
  }
  if (challenge.type !== MESSAGE_TYPES.challenge) {
    throw refuse(
      `the challenge message is of type ${String(challenge.type)}, not ${MESSAGE_TYPES.challenge}`,
    );
  }
  for (const [name, message, fields] of [
    ["consent", consent, CONSENT_FIELDS],
    ["challenge", challenge, CHALLENGE_FIELDS],
  ] as const) {
    const keys = Object.keys(message).sort();
    if (keys.join() !== fields.join()) {
      throw refuse(`the ${name} message has fields ${keys.join(", ")}; expected ${fields.join(", ")}`);
    }
    if (message.deviceId !== expected.deviceId) {
      throw refuse(
        `the ${name} message is for device ${String(message.deviceId)}, this is ${expected.deviceId}`,
      );
    }
  }
  if (prepared.deviceId !== expected.deviceId) {
    throw refuse(`the verification is of device ${prepared.deviceId}, this is ${expected.deviceId}`);
  }
  for (const field of ["requestId", "epoch", "challenge", "requesterMsp", "recipientKey"] as const) {
    if (consent[field] !== prepared[field]) {
      throw refuse(
        `the consent's ${field} ${String(consent[field])} is not the request's ${String(prepared[field])}`,
      );
    }
  }
  if (challenge.requestId !== prepared.requestId || challenge.challenge !== prepared.challenge) {
    throw refuse("the challenge message is for another request or challenge than the consent");
  }
  if (expected.requesterMsp !== undefined && prepared.requesterMsp !== expected.requesterMsp) {
    throw refuse(
      `the requester is ${prepared.requesterMsp}; this device consents only to ${expected.requesterMsp}, its owner`,
    );
  }
  if (expected.epoch !== undefined && prepared.epoch !== expected.epoch) {
    throw refuse(`it is for seal epoch ${prepared.epoch}; this device's seal is epoch ${expected.epoch}`);
  }
  return {
    consent: verifyMessage({
      requestId: prepared.requestId,
      deviceId: expected.deviceId,
      epoch: prepared.epoch,
      challenge: prepared.challenge,
      requesterMsp: prepared.requesterMsp,
      recipientKey: prepared.recipientKey,
    }),
    challenge: challengeMessage({
      requestId: prepared.requestId,
      deviceId: expected.deviceId,
      challenge: prepared.challenge,
    }),
  };
}

/** Checks, then signs both messages with the device key. */
export async function signVerification(
  device: DeviceIdentity,
  prepared: PreparedAnswer,
  expected: Omit<VerificationExpectations, "deviceId">,
): Promise<SignedVerification> {
  const { consent, challenge } = checkVerificationMessages(prepared, {
    ...expected,
    deviceId: device.deviceId,
  });
  return {
    consent,
    challenge,
    consentSignature: await device.consentToVerification(consent),
    challengeSignature: await device.respondToChallenge(challenge),
  };
}
