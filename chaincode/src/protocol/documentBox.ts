import { randomBytes } from "node:crypto";

import nacl from "tweetnacl";

import { SecureIdError } from "./errors.js";
import { sha256Hex } from "./hashing.js";

export const DOCUMENT_KEY_BYTES = nacl.secretbox.keyLength;
const NONCE_BYTES = nacl.secretbox.nonceLength;

/**
 * Keymaker's encryption: XSalsa20-Poly1305 (NaCl secretbox) under a fresh random key, with a fresh random
 * nonce. The sealed form is nonce ‖ box, and `ciphertextHash` = sha256(nonce ‖ box) is what the ledger
 * holds, so every copy a verifier releases can be checked against the public record before use.
 */
export interface SealedDocument {
  key: Uint8Array;
  sealed: Uint8Array;
  ciphertextHash: string;
}

export function sealDocument(plaintext: Uint8Array): SealedDocument {
  const key = new Uint8Array(randomBytes(DOCUMENT_KEY_BYTES));
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const sealed = new Uint8Array(NONCE_BYTES + plaintext.length + nacl.secretbox.overheadLength);
  sealed.set(nonce);
  sealed.set(nacl.secretbox(plaintext, nonce, key), NONCE_BYTES);
  return { key, sealed, ciphertextHash: sha256Hex(sealed) };
}

/** Authenticated decryption: a wrong key or any changed byte fails here, never yields other plaintext. */
export function openDocument(sealed: Uint8Array, key: Uint8Array): Uint8Array {
  if (key.length !== DOCUMENT_KEY_BYTES) {
    throw new SecureIdError("SecureIdDecryptionFailed", `document key is ${key.length} bytes, not 32`);
  }
  if (sealed.length < NONCE_BYTES + nacl.secretbox.overheadLength) {
    throw new SecureIdError("SecureIdDecryptionFailed", `sealed document is only ${sealed.length} bytes`);
  }
  const opened = nacl.secretbox.open(sealed.subarray(NONCE_BYTES), sealed.subarray(0, NONCE_BYTES), key);
  if (!opened) {
    throw new SecureIdError(
      "SecureIdDecryptionFailed",
      "the document does not decrypt: wrong key (shards) or altered ciphertext",
    );
  }
  return opened;
}
