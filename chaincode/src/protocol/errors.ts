/**
 * Every refusal of the Secure ID protocol, on or off the ledger, carries a stable code. The chaincode's
 * message travels to clients only as text (Fabric wraps it in its own error), so the code leads the
 * message, `SecureIdDeviceRevoked: device 0x… was revoked …`, and `secureIdErrorCode` finds it again.
 */
export type SecureIdErrorCode =
  | "SecureIdInvalidArgument"
  | "SecureIdBadSignature"
  | "SecureIdUnauthorized"
  | "SecureIdDeviceExists"
  | "SecureIdDeviceRetired"
  | "SecureIdDeviceIdMismatch"
  | "SecureIdMeterBound"
  | "SecureIdDeviceNotFound"
  | "SecureIdDeviceRevoked"
  | "SecureIdNotSealed"
  | "SecureIdUnknownVerifier"
  | "SecureIdBadPolicy"
  | "SecureIdStaleEpoch"
  | "SecureIdEpochMismatch"
  | "SecureIdNoShardHeld"
  | "SecureIdMissingTransient"
  | "SecureIdCommitmentMismatch"
  | "SecureIdCiphertextMismatch"
  | "SecureIdRequestExists"
  | "SecureIdChallengeReused"
  | "SecureIdRequestNotFound"
  | "SecureIdNotRequester"
  | "SecureIdRequestClosed"
  | "SecureIdRequestExpired"
  | "SecureIdBadShardIndices"
  | "SecureIdDocumentMismatch"
  | "SecureIdBadChallengeResponse"
  | "SecureIdVerdictNotFound"
  | "SecureIdVerdictFailed"
  | "SecureIdVerdictStale"
  | "SecureIdAlreadyRevoked"
  | "SecureIdTooFewShards"
  | "SecureIdDecryptionFailed"
  | "SecureIdBadRelease";

export class SecureIdError extends Error {
  override readonly name = "SecureIdError";
  constructor(
    readonly code: SecureIdErrorCode,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${detail}`, options);
  }
}

/** The code at the start of a Secure ID message, wherever Fabric or a transport embedded it. */
export function secureIdErrorCode(message: string): SecureIdErrorCode | undefined {
  return /\b(SecureId[A-Z][A-Za-z]+):/.exec(message)?.[1] as SecureIdErrorCode | undefined;
}
