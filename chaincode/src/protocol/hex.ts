import { z } from "zod";

/**
 * Byte strings travel as lower-case hex. Exactly one spelling per value: a challenge or a request id
 * that could be written in two cases could be "new" twice, so upper case is refused, not normalised.
 */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(hex: string, what: string, length?: number): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new TypeError(`${what}: not lower-case hex of whole bytes`);
  const bytes = new Uint8Array(Buffer.from(hex, "hex"));
  if (length !== undefined && bytes.length !== length) {
    throw new TypeError(`${what}: ${bytes.length} bytes, expected ${length}`);
  }
  return bytes;
}

export const hexBytes = (length: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${length * 2}}$`), `expected ${length} bytes as lower-case hex`);

export const hexString = z.string().regex(/^(?:[0-9a-f]{2})+$/, "expected lower-case hex of whole bytes");

/** A sha256 digest, an ed25519 public key, a salt, a challenge: 32 bytes. */
export const hex32 = hexBytes(32);

/** `0x` + 64 lower-case hex: the bytes32 the EVM side uses for device ids and verdict tx ids. */
export const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/, "expected 0x and 64 lower-case hex digits");

/** A lower-case Ethereum address: one spelling, so a meter cannot be bound twice under two checksums. */
export const address = z.string().regex(/^0x[0-9a-f]{40}$/, "expected a lower-case 0x Ethereum address");

export const mspId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected an MSP id");

export const requestId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, "expected 8 to 64 characters of A-Z, a-z, 0-9, _ or -");
