import { randomBytes } from "node:crypto";

import { combine, split } from "shamir-secret-sharing";

import { SecureIdError } from "./errors.js";
import { sameDigest, shardCommitment } from "./hashing.js";
import { fromHex, toHex } from "./hex.js";
import { MAX_VERIFIERS } from "./shardLimits.js";

/** One share of the document key with the salt of its public commitment. */
export interface Shard {
  index: number;
  shard: string;
  salt: string;
}

export interface CommittedShard extends Shard {
  commitment: string;
}

export interface KeySplit {
  /** Shards 0..n-1, one per verifier organisation, in the seal's order. */
  verifierShards: CommittedShard[];
  /** Shard n, kept by the device so it can rebuild its key with k-1 verifiers. */
  deviceShard: CommittedShard;
}

/** Splits `key` into n+1 shares, any k of which rebuild it, each with a fresh 32-byte salt. */
export async function splitKey(key: Uint8Array, n: number, k: number): Promise<KeySplit> {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 2 || k > n || n > MAX_VERIFIERS) {
    throw new SecureIdError("SecureIdBadPolicy", `need 2 ≤ k ≤ n ≤ ${MAX_VERIFIERS}, got k=${k}, n=${n}`);
  }
  const shares = await split(key, n + 1, k);
  const committed = shares.map((share, index) => {
    const salt = new Uint8Array(randomBytes(32));
    return { index, shard: toHex(share), salt: toHex(salt), commitment: shardCommitment(salt, share) };
  });
  return { verifierShards: committed.slice(0, n), deviceShard: committed[n]! };
}

/** Where a shard came from, for errors that name the culprit. */
export interface SourcedShard extends Shard {
  source: string;
}

/**
 * Rebuilds the document key from k or more shards. Each shard is checked against its seal commitment
 * first, so a wrong or altered shard is refused by name instead of silently yielding a wrong key (the
 * Shamir combination itself cannot tell).
 */
export async function combineShards(
  shards: readonly SourcedShard[],
  commitments: readonly string[],
  k: number,
): Promise<Uint8Array> {
  const seen = new Set<number>();
  const shares: Uint8Array[] = [];
  for (const s of shards) {
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= commitments.length) {
      throw new SecureIdError(
        "SecureIdCommitmentMismatch",
        `shard from ${s.source} has index ${s.index}, outside 0..${commitments.length - 1}`,
      );
    }
    const share = fromHex(s.shard, `shard ${s.index} from ${s.source}`);
    const salt = fromHex(s.salt, `salt of shard ${s.index} from ${s.source}`, 32);
    if (!sameDigest(shardCommitment(salt, share), commitments[s.index]!)) {
      throw new SecureIdError(
        "SecureIdCommitmentMismatch",
        `shard ${s.index} from ${s.source} does not match its commitment ${commitments[s.index]}`,
      );
    }
    if (seen.has(s.index)) continue;
    seen.add(s.index);
    shares.push(share);
  }
  if (shares.length < k) {
    throw new SecureIdError(
      "SecureIdTooFewShards",
      `${shares.length} distinct valid shard(s), the threshold is ${k}`,
    );
  }
  return combine(shares);
}
