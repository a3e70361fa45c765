import { readFile } from "node:fs/promises";

import { Wallet, type HDNodeWallet } from "ethers";

import { ConfigError } from "../common/errors.js";
import type { ControllerConfig } from "./controllerConfig.js";

/** Decrypts the controller's key; the passphrase is read, used and dropped here. */
export async function unlockControllerKey(config: ControllerConfig): Promise<Wallet | HDNodeWallet> {
  const { keystore, passphraseFile } = config.key;
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path, "utf8");
    } catch (cause) {
      throw new ConfigError([`cannot read the ${what} ${path}: ${(cause as NodeJS.ErrnoException).code}`]);
    }
  };
  const [json, passphrase] = await Promise.all([
    read(keystore, "keystore"),
    read(passphraseFile, "passphrase file").then((s) => s.replace(/\r?\n$/, "")),
  ]);
  try {
    return await Wallet.fromEncryptedJson(json, passphrase);
  } catch (cause) {
    // ethers says "incorrect password" or what is wrong with the JSON; the passphrase never appears.
    throw new ConfigError([`cannot open the keystore ${keystore}: ${(cause as Error).message}`]);
  }
}
