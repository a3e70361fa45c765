import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";

import { sha256Hex } from "./hashing.js";
import { fromHex, toHex } from "./hex.js";
import { messageBytes, type DeviceMessage } from "./messages.js";

// DER headers of the PKCS#8 and SPKI forms of an Ed25519 key (RFC 8410); the raw key follows them.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface DeviceKeyPair {
  /** The 32-byte seed (RFC 8032 private key). */
  privateKey: Uint8Array;
  /** The raw 32-byte public key. */
  publicKey: Uint8Array;
}

export function generateDeviceKeyPair(): DeviceKeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length);
  return deviceKeyPairFromSeed(new Uint8Array(seed));
}

export function deviceKeyPairFromSeed(seed: Uint8Array): DeviceKeyPair {
  if (seed.length !== 32) throw new TypeError(`an Ed25519 private key is 32 bytes, not ${seed.length}`);
  const key = privateKeyObject(seed);
  const spki = createPublicKey(key).export({ format: "der", type: "spki" });
  return { privateKey: new Uint8Array(seed), publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)) };
}

/** `0x` + sha256(raw public key): the bytes32 MeterRegistry.enroll takes. */
export function deviceIdOf(publicKey: Uint8Array | string): string {
  const raw = typeof publicKey === "string" ? fromHex(publicKey, "public key", 32) : publicKey;
  return `0x${sha256Hex(raw)}`;
}

export function signDeviceMessage(privateKey: Uint8Array, message: DeviceMessage): string {
  return toHex(sign(null, messageBytes(message), privateKeyObject(privateKey)));
}

/** False for any malformed key or signature: callers turn that into their own error. */
export function verifyDeviceMessage(publicKey: string, message: DeviceMessage, signature: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(publicKey) || !/^[0-9a-f]{128}$/.test(signature)) return false;
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey, "hex")]),
      format: "der",
      type: "spki",
    });
  } catch {
    return false;
  }
  return verify(null, messageBytes(message), key, Buffer.from(signature, "hex"));
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}
