import type { IncomingMessage } from "node:http";

import { z } from "zod";

import {
  CUSTOMER_SCOPE,
  customerAccessTypes,
  gatewayDomain,
  hexAddressSchema,
  hexSignatureSchema,
  mutableTypes,
} from "@gridmesh/contracts";
import { typedDataSigner } from "@gridmesh/contracts/ethers";

import { ApiError } from "./apiError.js";

/** How long a customer token may live at most. */
export const MAX_TOKEN_SECONDS = 24 * 3600;

const types = mutableTypes(customerAccessTypes);

const tokenSchema = z.strictObject({
  account: hexAddressSchema,
  expires: z.number().int().positive(),
  signature: hexSignatureSchema,
});

/**
 * Checks `Authorization: GridMesh-Wallet <token>`, where the token is base64url JSON
 * { account, expires, signature } and the signature is the account's EIP-712 CustomerAccess for
 * this chain. No session is stored: each request proves itself, and a token dies at its expiry
 * (at most a day ahead). Returns the account, lower-case.
 */
export function checkCustomerAccess(req: IncomingMessage, chainId: bigint, nowSeconds: number): string {
  const challenge = { "www-authenticate": 'GridMesh-Wallet realm="gridmesh-customer"' };
  const refuse = (message: string) => new ApiError(401, message, undefined, challenge);
  const header = req.headers.authorization;
  const encoded = header === undefined ? undefined : /^GridMesh-Wallet +(\S+) *$/i.exec(header)?.[1];
  if (encoded === undefined) {
    throw refuse("account endpoints need Authorization: GridMesh-Wallet <token signed in your wallet>");
  }
  let token: z.infer<typeof tokenSchema>;
  try {
    token = tokenSchema.parse(JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")));
  } catch {
    throw refuse("the wallet token is malformed: expected base64url JSON { account, expires, signature }");
  }
  if (token.expires <= nowSeconds) throw refuse("the wallet token has expired: sign a new one");
  if (token.expires > nowSeconds + MAX_TOKEN_SECONDS) {
    throw refuse(`a wallet token may live at most ${MAX_TOKEN_SECONDS} s`);
  }
  const signer = typedDataSigner(
    gatewayDomain(chainId),
    types,
    { account: token.account, scope: CUSTOMER_SCOPE, expires: token.expires },
    token.signature,
  );
  if (signer === undefined) throw refuse("the wallet token's signature cannot be read");
  if (signer.toLowerCase() !== token.account.toLowerCase()) {
    throw refuse("the wallet token was not signed by the account it names");
  }
  return token.account.toLowerCase();
}
