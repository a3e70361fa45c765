import { readFile } from "node:fs/promises";

import { Wallet } from "ethers";

import { GatewayError } from "../common/errors.js";
import type { GatewayConfig } from "../config/config.js";

/**
 * Decrypts each in-process verifier organisation's Ethereum key (v3 keystore, passphrase from its own
 * file) for its attestor. The keys never leave memory; a failure names the organisation and the file.
 */
export async function loadVerifierKeys(
  verifiers: GatewayConfig["identity"]["verifiers"],
): Promise<Map<string, Wallet>> {
  const wallets = await Promise.all(
    verifiers.map(async ({ mspId, keystoreFile, passphraseFile }) => {
      let json: string;
      let passphrase: string;
      try {
        [json, passphrase] = await Promise.all([
          readFile(keystoreFile, "utf8"),
          readFile(passphraseFile, "utf8").then((s) => s.replace(/\r?\n$/, "")),
        ]);
      } catch (e) {
        throw new GatewayError(`cannot read the attestation key of ${mspId}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      try {
        const wallet = await Wallet.fromEncryptedJson(json, passphrase);
        return [mspId, new Wallet(wallet.privateKey)] as const;
      } catch (e) {
        throw new GatewayError(
          `cannot decrypt ${keystoreFile} (attestation key of ${mspId}): wrong passphrase or not a v3 keystore`,
          { cause: e },
        );
      }
    }),
  );
  return new Map(wallets);
}
