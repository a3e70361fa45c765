import { readFile, rename, stat, writeFile } from "node:fs/promises";

import { encryptKeystoreJson, Wallet } from "ethers";

import { KeystoreError } from "./signingErrors.js";

/**
 * The meter's Ethereum key at rest: a Web3 Secret Storage (v3) JSON file, scrypt-derived key and
 * AES-128-CTR, the format wallets and `geth` read. The passphrase comes from a file (a systemd
 * credential, a mounted secret) or an environment variable, never from the configuration itself,
 * and never reaches a log or an error message.
 */

export interface PassphraseSource {
  /** A file holding the passphrase (trailing newline ignored). */
  file?: string | undefined;
  /** The name of an environment variable holding the passphrase. */
  env?: string | undefined;
}

export interface KeystoreOptions {
  /**
   * scrypt cost N (a power of two). The default, 2^17, takes a few seconds on a Raspberry Pi at
   * start-up, which is the point; tests pass a small value.
   */
  scryptN?: number;
}

export async function readPassphrase(source: PassphraseSource): Promise<string> {
  let passphrase: string | undefined;
  if (source.file !== undefined) {
    let text: string;
    try {
      text = await readFile(source.file, "utf8");
    } catch (cause) {
      throw new KeystoreError(
        `cannot read the passphrase file ${source.file}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
        {
          cause,
        },
      );
    }
    passphrase = text.replace(/\r?\n$/, "");
  } else if (source.env !== undefined) {
    passphrase = process.env[source.env];
    if (passphrase === undefined)
      throw new KeystoreError(`the environment variable ${source.env} holding the passphrase is not set`);
  } else {
    throw new KeystoreError("no passphrase source: give a passphrase file or an environment variable");
  }
  if (passphrase.length < 8)
    throw new KeystoreError("the keystore passphrase must be at least 8 characters long");
  return passphrase;
}

/** Creates a new random key, encrypted with `passphrase`, at `path` (mode 0600); refuses to overwrite. */
export async function createKeystore(
  path: string,
  passphrase: string,
  options: KeystoreOptions = {},
): Promise<Wallet> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists)
    throw new KeystoreError(`a keystore already exists at ${path}; refusing to overwrite a meter's key`);
  const wallet = Wallet.createRandom();
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    passphrase,
    options.scryptN === undefined ? {} : { scrypt: { N: options.scryptN } },
  );
  // Written beside the target and renamed, so a crash never leaves a half-written key.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, json, { mode: 0o600, flag: "wx" });
  await rename(tmp, path);
  return new Wallet(wallet.privateKey);
}

/** Decrypts the keystore at `path`. A wrong passphrase and a damaged file give different errors. */
export async function loadKeystore(path: string, passphrase: string): Promise<Wallet> {
  let json: string;
  try {
    json = await readFile(path, "utf8");
  } catch (cause) {
    throw new KeystoreError(
      `cannot read the keystore ${path}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
      { cause },
    );
  }
  try {
    JSON.parse(json);
  } catch (cause) {
    throw new KeystoreError(`the keystore ${path} is not valid JSON`, { cause });
  }
  try {
    const account = await Wallet.fromEncryptedJson(json, passphrase);
    return new Wallet(account.privateKey);
  } catch (cause) {
    const wrong = /password/i.test((cause as Error).message);
    throw new KeystoreError(
      wrong
        ? `wrong passphrase for the keystore ${path}`
        : `the keystore ${path} cannot be decrypted: it is damaged or not a v3 keystore`,
      { cause: wrong ? undefined : cause },
    );
  }
}

/** The address a keystore holds, read without the passphrase (v3 files record it in clear). */
export async function keystoreAddress(path: string): Promise<`0x${string}`> {
  const json = JSON.parse(await readFile(path, "utf8")) as { address?: unknown };
  if (typeof json.address !== "string" || !/^(0x)?[0-9a-fA-F]{40}$/.test(json.address)) {
    throw new KeystoreError(`the keystore ${path} records no address`);
  }
  const hex = json.address.startsWith("0x") ? json.address : `0x${json.address}`;
  return hex.toLowerCase() as `0x${string}`;
}
