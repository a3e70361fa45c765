import { createHash } from "node:crypto";

import { toHex } from "./hex.js";

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

export function sha256Hex(...parts: Uint8Array[]): string {
  return toHex(sha256(...parts));
}

/** Salted, so a verifier's shard cannot be confirmed by guessing: sha256(salt ‖ shard). */
export function shardCommitment(salt: Uint8Array, shard: Uint8Array): string {
  return sha256Hex(salt, shard);
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
