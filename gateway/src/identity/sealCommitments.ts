import { fromHex, sha256Hex, shardCommitment } from "@gridmesh/chaincode/client";

/**
 * The seal's public commitments, recomputed from what the device sent so that a seal whose shards or
 * ciphertext do not match them is refused before anything is written (the chaincode would refuse each
 * deposit, but only after the seal itself was committed). Inputs are hex, as the API carries them.
 */
export function ciphertextHashOf(ciphertextHex: string): string {
  return sha256Hex(fromHex(ciphertextHex, "ciphertext"));
}

export function shardCommitmentOf(saltHex: string, shardHex: string): string {
  return shardCommitment(fromHex(saltHex, "salt"), fromHex(shardHex, "shard"));
}
