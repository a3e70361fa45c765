import { marshal } from "../marshal.js";

/**
 * What a device signs. Each purpose has its own `type`, and the signature covers the canonical JSON of the
 * whole object, type included: a consent to one verification can never pass as a challenge response, a
 * seal consent never as a revocation, whatever the other fields hold.
 */
export const MESSAGE_TYPES = {
  provision: "gridmesh.secureid.v1.provision",
  keymaker: "gridmesh.secureid.v1.keymaker",
  verify: "gridmesh.secureid.v1.verify",
  challenge: "gridmesh.secureid.v1.challenge",
  revoke: "gridmesh.secureid.v1.revoke",
  deregister: "gridmesh.secureid.v1.deregister",
} as const;

/** The device asks to be registered with this key, meter and document hash, owned by `ownerMsp`. */
export interface ProvisionMessage {
  type: typeof MESSAGE_TYPES.provision;
  deviceId: string;
  publicKey: string;
  meter: string;
  attributesHash: string;
  ownerMsp: string;
}

/** Keymaker consent: exactly this ciphertext, these commitments, these verifiers, this threshold. */
export interface SealMessage {
  type: typeof MESSAGE_TYPES.keymaker;
  deviceId: string;
  ciphertextHash: string;
  commitments: string[];
  verifiers: string[];
  k: number;
  epoch: number;
}

/** Consent to one verification by `requesterMsp`, released only to `recipientKey`. */
export interface VerifyMessage {
  type: typeof MESSAGE_TYPES.verify;
  requestId: string;
  deviceId: string;
  epoch: number;
  challenge: string;
  requesterMsp: string;
  recipientKey: string;
}

/** Proof that the device holds its key now, for this request alone. */
export interface ChallengeMessage {
  type: typeof MESSAGE_TYPES.challenge;
  requestId: string;
  deviceId: string;
  challenge: string;
}

export interface RevokeMessage {
  type: typeof MESSAGE_TYPES.revoke;
  deviceId: string;
  reason: string;
}

export interface DeregisterMessage {
  type: typeof MESSAGE_TYPES.deregister;
  deviceId: string;
}

export type DeviceMessage =
  ProvisionMessage | SealMessage | VerifyMessage | ChallengeMessage | RevokeMessage | DeregisterMessage;

type Fields<M extends DeviceMessage> = Omit<M, "type">;

export const provisionMessage = (f: Fields<ProvisionMessage>): ProvisionMessage => ({
  type: MESSAGE_TYPES.provision,
  ...f,
});
export const sealMessage = (f: Fields<SealMessage>): SealMessage => ({ type: MESSAGE_TYPES.keymaker, ...f });
export const verifyMessage = (f: Fields<VerifyMessage>): VerifyMessage => ({
  type: MESSAGE_TYPES.verify,
  ...f,
});
export const challengeMessage = (f: Fields<ChallengeMessage>): ChallengeMessage => ({
  type: MESSAGE_TYPES.challenge,
  ...f,
});
export const revokeMessage = (f: Fields<RevokeMessage>): RevokeMessage => ({
  type: MESSAGE_TYPES.revoke,
  ...f,
});
export const deregisterMessage = (f: Fields<DeregisterMessage>): DeregisterMessage => ({
  type: MESSAGE_TYPES.deregister,
  ...f,
});

/** The signed bytes: UTF-8 canonical JSON, identical whatever order the fields were set in. */
export function messageBytes(message: DeviceMessage): Uint8Array {
  return marshal(message);
}
