import { HDNodeWallet, Mnemonic } from "ethers";

/**
 * Hardhat's well-known development accounts, as the local node funds them: account 0 deploys and
 * is admin and matcher (the gateway's key), 17–19 are the verifier organisations (the GridMesh
 * Ignition module), and the homes' owners take the others from 1 up. Never use them on a real network.
 */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
export const DEPLOYER_ACCOUNT = 0;
export const VERIFIER_ACCOUNTS = [17, 18, 19] as const;
export const VERIFIER_MSPS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"] as const;

/** The account owning home `index` (1-based): 1–16, then 20 on, around the verifiers. */
export function ownerAccountOf(index: number): number {
  if (!Number.isInteger(index) || index < 1)
    throw new RangeError(`home index must be 1 or more, not ${index}`);
  return index < VERIFIER_ACCOUNTS[0] ? index : index + VERIFIER_ACCOUNTS.length;
}

/** How many accounts the node needs for `homes` homes (never fewer than Hardhat's twenty). */
export function accountCountFor(homes: number): number {
  return Math.max(20, ownerAccountOf(homes) + 1);
}

/** The private key of development account `index`. */
export function devAccountKey(index: number): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${index}`)
    .privateKey;
}
