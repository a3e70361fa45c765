import { createSecretKey, type KeyObject } from "node:crypto";

/**
 * Shorter secrets are refused: HMAC is only as strong as its key, and a 32-character random string
 * (e.g. `openssl rand -base64 32`) carries well over 128 bits.
 */
export const minSecretLength = 32;

/**
 * Turns a shared secret into an HMAC key. A `KeyObject` rather than the string, so that a battery
 * or server object printed in a log or a debugger never shows it.
 */
export function sharedSecret(secret: string, label: string): KeyObject {
  if (secret.length < minSecretLength) {
    // The length may be named; the secret never is.
    throw new RangeError(
      `${label}: the shared secret has ${secret.length} characters, at least ${minSecretLength} are required`,
    );
  }
  return createSecretKey(Buffer.from(secret, "utf8"));
}
