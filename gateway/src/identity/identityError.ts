import { SecureIdError, SecureIdLedgerError, type SecureIdErrorCode } from "@gridmesh/chaincode/client";

import { ContractRevertError } from "../chain/transactionSender.js";
import { GatewayError } from "../common/errors.js";

/**
 * Why an identity operation was refused, in terms a caller can act on: `invalid` (what was sent is
 * wrong: a bad signature, a shard that does not match its commitment), `not-found`, `conflict` (the
 * device or request is not in a state that allows it), `forbidden`, `unavailable` (the ledger or a
 * peer did not answer: try again).
 */
export type IdentityErrorKind = "invalid" | "not-found" | "conflict" | "forbidden" | "unavailable";

export class IdentityError extends GatewayError {
  override readonly name = "IdentityError";

  constructor(
    readonly kind: IdentityErrorKind,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, retryable: kind === "unavailable" });
  }
}

const KIND_OF_CODE: Partial<Record<SecureIdErrorCode, IdentityErrorKind>> = {
  SecureIdDeviceNotFound: "not-found",
  SecureIdRequestNotFound: "not-found",
  SecureIdVerdictNotFound: "not-found",
  SecureIdUnauthorized: "forbidden",
  SecureIdNotRequester: "forbidden",
  SecureIdDeviceExists: "conflict",
  SecureIdDeviceRetired: "conflict",
  SecureIdMeterBound: "conflict",
  SecureIdDeviceRevoked: "conflict",
  SecureIdAlreadyRevoked: "conflict",
  SecureIdNotSealed: "conflict",
  SecureIdStaleEpoch: "conflict",
  SecureIdEpochMismatch: "conflict",
  SecureIdRequestExists: "conflict",
  SecureIdChallengeReused: "conflict",
  SecureIdRequestClosed: "conflict",
  SecureIdRequestExpired: "conflict",
  SecureIdVerdictFailed: "conflict",
  SecureIdVerdictStale: "conflict",
  SecureIdNoShardHeld: "conflict",
};

/**
 * A Secure ID refusal as an IdentityError: the chaincode's code decides the kind (anything not listed
 * is something the caller sent wrong), a ledger or chain that did not answer is `unavailable`, and the
 * message keeps the chaincode's own words, which name the values at fault. Anything else is a fault of
 * the gateway and is returned unchanged, to be logged as one.
 */
export function identityErrorOf(error: unknown, doing: string): Error {
  if (error instanceof IdentityError) return error;
  if (error instanceof SecureIdLedgerError) {
    const kind: IdentityErrorKind =
      error.code !== undefined
        ? (KIND_OF_CODE[error.code] ?? "invalid")
        : error.retryable
          ? "unavailable"
          : "conflict";
    return new IdentityError(kind, `${doing}: ${chaincodeMessage(error)}`, { cause: error });
  }
  if (error instanceof SecureIdError) {
    return new IdentityError(KIND_OF_CODE[error.code] ?? "invalid", `${doing}: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof ContractRevertError) {
    return new IdentityError("conflict", `${doing}: ${error.message}`, { cause: error });
  }
  if (error instanceof GatewayError && error.retryable) {
    return new IdentityError("unavailable", `${doing}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** From Fabric's wrapping (`… chaincode response 500, SecureIdX: …`) keep the chaincode's sentence. */
function chaincodeMessage(error: SecureIdLedgerError): string {
  if (error.code === undefined) return error.message;
  return error.message.slice(error.message.indexOf(`${error.code}:`));
}
