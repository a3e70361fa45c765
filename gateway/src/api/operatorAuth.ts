import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

import { ApiError } from "./apiError.js";

/**
 * Checks `Authorization: Bearer <token>` against the configured SHA-256 of the operator token.
 * Comparing digests of equal length in constant time leaks neither the token nor its length;
 * only the hash is configured, so the token itself is never stored on the gateway.
 */
export function checkOperatorToken(req: IncomingMessage, tokenSha256: string): void {
  const header = req.headers.authorization;
  const token = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
  const challenge = { "www-authenticate": 'Bearer realm="gridmesh-operator"' };
  if (token === undefined)
    throw new ApiError(401, "operator endpoints need Authorization: Bearer <token>", undefined, challenge);
  const given = createHash("sha256").update(token, "utf8").digest();
  if (!timingSafeEqual(given, Buffer.from(tokenSha256, "hex"))) {
    throw new ApiError(401, "operator token is not valid", undefined, challenge);
  }
}
