import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt,
  type BinaryLike,
  type ScryptOptions,
} from "node:crypto";
import { readFile } from "node:fs/promises";

import { z } from "zod";

import { createFileOnce } from "./createFileOnce.js";
import { DeviceKeyError } from "./identityErrors.js";

/**
 * A secret at rest beside the meter key: scrypt (the meter keystore's KDF, same passphrase, same cost)
 * derives an AES-256-GCM key; a few public fields stay readable without the passphrase (as a v3
 * keystore's address does) and are authenticated with the secret, so altering them fails decryption.
 * Files are created with mode 0600 and never replaced (createFileOnce): a device key or a shard lost
 * to an overwrite cannot be made again.
 */

const FORMAT = "gridmesh-sealed-secret/1";
const R = 8;
const P = 1;

export type ClearFields = Readonly<Record<string, string | number>>;

const hex = z.string().regex(/^(?:[0-9a-f]{2})+$/);
const envelopeSchema = z.strictObject({
  format: z.literal(FORMAT),
  kind: z.string().min(1),
  clear: z.record(z.string(), z.union([z.string(), z.number()])),
  kdf: z.strictObject({
    name: z.literal("scrypt"),
    // Bounded, so an edited file cannot make scrypt claim gigabytes.
    n: z
      .number()
      .int()
      .min(2)
      .max(2 ** 20),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: hex,
  }),
  cipher: z.strictObject({ name: z.literal("aes-256-gcm"), iv: hex, tag: hex }),
  ciphertext: hex,
});

export type SealedEnvelope = z.infer<typeof envelopeSchema>;

export interface WriteSealedFileParameters {
  path: string;
  /** What the file holds; reading it as another kind is refused. */
  kind: string;
  clear: ClearFields;
  secret: Uint8Array;
  passphrase: string;
  /** scrypt N, a power of two: the agent's `key.scryptN`. */
  scryptN: number;
}

export async function writeSealedFile(p: WriteSealedFileParameters): Promise<void> {
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const key = await deriveKey(p.passphrase, salt, p.scryptN, R, P);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(associatedData(p.kind, p.clear));
  const ciphertext = Buffer.concat([cipher.update(p.secret), cipher.final()]);
  key.fill(0);
  const envelope: SealedEnvelope = {
    format: FORMAT,
    kind: p.kind,
    clear: { ...p.clear },
    kdf: { name: "scrypt", n: p.scryptN, r: R, p: P, salt: salt.toString("hex") },
    cipher: { name: "aes-256-gcm", iv: iv.toString("hex"), tag: cipher.getAuthTag().toString("hex") },
    ciphertext: ciphertext.toString("hex"),
  };
  let created: Awaited<ReturnType<typeof createFileOnce>>;
  try {
    created = await createFileOnce(p.path, `${JSON.stringify(envelope, null, 2)}\n`);
  } catch (cause) {
    throw new DeviceKeyError(`cannot create ${p.path}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`, {
      cause,
    });
  }
  if (created === "exists") throw new DeviceKeyError(`${p.path} already exists; refusing to overwrite it`);
}

/** The envelope of the sealed file at `path`, checked to hold `kind`; its clear fields need no passphrase. */
export async function readSealedFile(path: string, kind: string): Promise<SealedEnvelope> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new DeviceKeyError(`cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`, {
      cause,
    });
  }
  let envelope: SealedEnvelope;
  try {
    envelope = envelopeSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw new DeviceKeyError(`${path} is not a sealed secret file (${FORMAT})`, { cause });
  }
  if (envelope.kind !== kind) throw new DeviceKeyError(`${path} holds a ${envelope.kind}, not a ${kind}`);
  return envelope;
}

/** Decrypts the secret. A wrong passphrase and altered contents look the same to AES-GCM, so one error says both. */
export async function openSealedFile(
  path: string,
  envelope: SealedEnvelope,
  passphrase: string,
): Promise<Uint8Array> {
  const { kdf, cipher } = envelope;
  const key = await deriveKey(passphrase, Buffer.from(kdf.salt, "hex"), kdf.n, kdf.r, kdf.p);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(cipher.iv, "hex"));
    decipher.setAAD(associatedData(envelope.kind, envelope.clear));
    decipher.setAuthTag(Buffer.from(cipher.tag, "hex"));
    return new Uint8Array(
      Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, "hex")), decipher.final()]),
    );
  } catch {
    throw new DeviceKeyError(`wrong passphrase for ${path}, or the file was altered`);
  } finally {
    key.fill(0);
  }
}

/** The clear fields in a fixed order: the bytes that were authenticated must be rebuilt exactly. */
function associatedData(kind: string, clear: ClearFields): Buffer {
  const sorted = Object.keys(clear)
    .sort()
    .map((k) => [k, clear[k]]);
  return Buffer.from(JSON.stringify([FORMAT, kind, sorted]), "utf8");
}

function deriveKey(passphrase: string, salt: BinaryLike, n: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default ceiling (32 MiB) is below the 2^17 cost the agent uses.
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r };
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, options, (error, key) =>
      error === null
        ? resolve(key)
        : reject(new DeviceKeyError(`scrypt failed: ${error.message}`, { cause: error })),
    ),
  );
}
