import { createHash, createHmac, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";

import type { Clock } from "../battery.js";

/**
 * Request and response signatures of the battery protocol: HMAC-SHA256 with a shared secret per
 * client key. A request's signature covers the key id, method, path with query, timestamp, a
 * random nonce and the SHA-256 of the body, so none of them can be altered; the server rejects
 * stale timestamps and remembers nonces, so a captured request cannot be sent again. A response's
 * signature covers the request's nonce, the status code and the body, so an answer can neither be
 * forged nor replayed to a later request.
 */
export const authHeaders = {
  keyId: "x-gridmesh-key-id",
  timestamp: "x-gridmesh-timestamp",
  nonce: "x-gridmesh-nonce",
  signature: "x-gridmesh-signature",
} as const;

/** Key ids are echoed in errors and logs, so they are kept to a plain, printable shape. */
export const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

export interface SignedRequestParts {
  readonly keyId: string;
  readonly method: string;
  /** The request target exactly as sent: path and query. */
  readonly path: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly nonce: string;
  readonly body: Uint8Array | string;
}

export interface SignedResponseParts {
  /** The nonce of the request being answered. */
  readonly nonce: string;
  readonly status: number;
  readonly body: Uint8Array | string;
}

// Distinct prefixes, so that a response's signature can never pass for a request's.
const requestDomain = "GRIDMESH-BAL-REQUEST-V1";
const responseDomain = "GRIDMESH-BAL-RESPONSE-V1";

export function sha256Hex(body: Uint8Array | string): string {
  return createHash("sha256").update(body).digest("hex");
}

/**
 * Every field is joined with newlines; none can contain one (the server checks the headers'
 * shapes before verifying, and HTTP forbids newlines in a method or path), so no two different
 * requests share a signed text.
 */
export function requestSignature(key: KeyObject, r: SignedRequestParts): Buffer {
  const text = [requestDomain, r.keyId, r.method, r.path, r.timestamp, r.nonce, sha256Hex(r.body)];
  return createHmac("sha256", key).update(text.join("\n")).digest();
}

export function responseSignature(key: KeyObject, r: SignedResponseParts): Buffer {
  const text = [responseDomain, r.nonce, r.status, sha256Hex(r.body)];
  return createHmac("sha256", key).update(text.join("\n")).digest();
}

/** Compares in constant time, so that the time taken reveals nothing of the expected value. */
export function signatureMatches(expected: Buffer, givenHex: string): boolean {
  const given = Buffer.from(givenHex, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A fresh 128-bit nonce, base64url. */
export function newNonce(): string {
  return randomBytes(16).toString("base64url");
}

/** The authentication headers of one request; a new nonce each call. */
export function signRequest(
  keyId: string,
  key: KeyObject,
  request: { readonly method: string; readonly path: string; readonly body: Uint8Array | string },
  clock: Clock = Date.now,
): Record<string, string> {
  const parts = { ...request, keyId, timestamp: Math.floor(clock()), nonce: newNonce() };
  return {
    [authHeaders.keyId]: keyId,
    [authHeaders.timestamp]: String(parts.timestamp),
    [authHeaders.nonce]: parts.nonce,
    [authHeaders.signature]: requestSignature(key, parts).toString("hex"),
  };
}
