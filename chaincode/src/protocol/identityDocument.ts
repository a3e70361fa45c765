import { z } from "zod";

import { marshal, unmarshal } from "../marshal.js";
import { sha256Hex } from "./hashing.js";
import { address, bytes32, hex32, mspId } from "./hex.js";

/**
 * What Keymaker encrypts: the device's claim about itself. Its hash is registered in clear at provisioning
 * (`attributesHash`), so a requester who decrypts it can tell whether the sealed document is the one the
 * device registered, and nobody without k shards learns the attributes.
 */
export const identityDocumentSchema = z
  .object({
    deviceId: bytes32,
    publicKey: hex32,
    meter: address,
    ownerMsp: mspId,
    attributes: z
      .object({ manufacturer: z.string().min(1), model: z.string().min(1), serial: z.string().min(1) })
      .catchall(z.string()),
  })
  .strict();

export type IdentityDocument = z.infer<typeof identityDocumentSchema>;

export function documentBytes(document: IdentityDocument): Uint8Array {
  return marshal(identityDocumentSchema.parse(document));
}

/** sha256 of the document's canonical JSON: `attributesHash` at provisioning, `documentHash` in a verdict. */
export function documentHash(document: IdentityDocument): string {
  return sha256Hex(documentBytes(document));
}

/**
 * Parses decrypted bytes. The hash is taken over the bytes as they came, so a document that parses but
 * is not in canonical form does not hash to the registered value and is caught by the caller.
 */
export function parseDocument(bytes: Uint8Array): { document: IdentityDocument; hash: string } {
  const document = identityDocumentSchema.parse(unmarshal(bytes, "identity document"));
  return { document, hash: sha256Hex(bytes) };
}
