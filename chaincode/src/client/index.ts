/** The Secure ID client library: what the meter agent (device side) and the gateway (requester, verifier) use. */
export {
  DeviceIdentity,
  KeymakerIncompleteError,
  type DeviceChannel,
  type KeymakerResult,
  type SealSubmission,
} from "./deviceIdentity.js";
export { EmbeddedLedger, type EmbeddedLedgerOptions } from "./embeddedLedger.js";
export { FabricLedger, type FabricTimeouts } from "./fabricLedger.js";
export {
  Keychecker,
  type KeycheckerOptions,
  type VerificationOutcome,
  type VerificationTimings,
} from "./keychecker.js";
export { loadNetworkProfile, networkProfileSchema, type NetworkProfile } from "./networkProfile.js";
export { SecureIdClient, type Submitted } from "./secureIdClient.js";
export {
  SecureIdLedgerError,
  type CloseableEvents,
  type EvaluateOptions,
  type EventsOptions,
  type LedgerCheckpoint,
  type LedgerEvent,
  type SecureIdLedger,
  type SubmitOptions,
  type SubmitResult,
} from "./secureIdLedger.js";
export {
  recoverAttestationSigner,
  signaturesForActivation,
  VerifierAttestor,
  type AttestationSigner,
  type SignedAttestation,
} from "./verifierAttestor.js";
export { ensureVerifierOrg } from "./verifierOrgs.js";
export { SecureIdError, secureIdErrorCode, type SecureIdErrorCode } from "../protocol/errors.js";
// The protocol's definitions that clients outside this package check against (one home each).
export { sha256Hex, shardCommitment } from "../protocol/hashing.js";
export { fromHex, toHex } from "../protocol/hex.js";
export { documentHash, type IdentityDocument } from "../protocol/identityDocument.js";
export {
  MESSAGE_TYPES,
  challengeMessage,
  revokeMessage,
  verifyMessage,
  type ChallengeMessage,
  type DeviceMessage,
  type VerifyMessage,
} from "../protocol/messages.js";
export { EVENTS } from "../protocol/records.js";
export type {
  IdentityRecord,
  RequestRecord,
  SealRecord,
  VerdictRecord,
  VerifierOrgRecord,
} from "../protocol/records.js";
