import type { IncomingHttpHeaders } from "node:http";
import type { KeyObject } from "node:crypto";

import { z } from "zod";

import { BatteryAuthError } from "../errors.js";
import { authHeaders, keyIdPattern, requestSignature, signatureMatches } from "./signing.js";

/** One client of a battery server. */
export interface ClientKey {
  readonly keyId: string;
  readonly key: KeyObject;
  /** The batteries this client may use; all of them when absent. */
  readonly batteries?: ReadonlySet<string>;
}

export interface VerifiedRequest {
  readonly client: ClientKey;
  readonly nonce: string;
  readonly timestamp: number;
}

const headers = z.object({
  [authHeaders.keyId]: z.string().regex(keyIdPattern),
  [authHeaders.timestamp]: z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
  [authHeaders.nonce]: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  [authHeaders.signature]: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * Checks a request's signature and timestamp; the caller then claims its nonce. Cheap checks come
 * first and the signature before anything is remembered, so a forger can make the server neither
 * compute much nor store anything. Messages name what failed, never a secret or a signature.
 */
export function verifyRequest(
  request: {
    readonly method: string;
    readonly path: string;
    readonly headers: IncomingHttpHeaders;
    readonly body: Uint8Array;
  },
  keys: ReadonlyMap<string, ClientKey>,
  /** Accepted distance between the request's timestamp and `now`, either way (milliseconds). */
  window: number,
  now: number,
): VerifiedRequest {
  const parsed = headers.safeParse(request.headers);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new BatteryAuthError(`missing or malformed authentication headers: ${names.join(", ")}`);
  }
  const {
    [authHeaders.keyId]: keyId,
    [authHeaders.timestamp]: timestamp,
    [authHeaders.nonce]: nonce,
    [authHeaders.signature]: signature,
  } = parsed.data;
  const client = keys.get(keyId);
  if (client === undefined) throw new BatteryAuthError(`unknown key id "${keyId}"`, { keyId });
  const skew = timestamp - now;
  if (Math.abs(skew) > window) {
    throw new BatteryAuthError(
      `timestamp is ${Math.round(skew / 1000)} s off the server's clock; at most ±${window / 1000} s is accepted`,
      { keyId, skew },
    );
  }
  const expected = requestSignature(client.key, {
    keyId,
    method: request.method,
    path: request.path,
    timestamp,
    nonce,
    body: request.body,
  });
  if (!signatureMatches(expected, signature)) {
    throw new BatteryAuthError("signature does not match: wrong secret, or the request was altered", {
      keyId,
    });
  }
  return { client, nonce, timestamp };
}
