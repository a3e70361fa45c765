import type { Queryable } from "../store/index.js";
import { ChainIndexerError } from "./chainIndexerError.js";
import type { ContractSet } from "./indexedContracts.js";

/** A block as the indexer remembers it. Hashes are lower-case. */
export interface BlockRef {
  number: bigint;
  hash: string;
  parentHash: string;
  timestamp: bigint;
}

/**
 * The indexer's checkpoints are chain_checkpoints rows named `evm:<role>`, one per followed contract,
 * always at the same block: they move together in the transaction that stores the range's events.
 */
const STREAM_PREFIX = "evm:";

/**
 * Serialises the indexers sharing a database (several gateways on one PostgreSQL server, or a
 * rebuild during a sync): whoever holds it reads the checkpoint, writes, and commits alone.
 */
export async function lockIndex(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('gridmesh chain indexer'))");
}

/**
 * Where the index stands: the block its checkpoints are at, null before the first range, or
 * "changed" when they were written for another set of contracts than `contracts`.
 */
export async function readCheckpoint(
  q: Queryable,
  contracts: ContractSet,
): Promise<BlockRef | null | "changed"> {
  const { rows } = await q.query<{
    stream: string;
    contract: string;
    block_number: bigint;
    block_hash: string;
    parent_hash: string | null;
    block_timestamp: bigint | null;
  }>(
    `SELECT c.stream, c.contract, c.block_number, c.block_hash, b.parent_hash, b.block_timestamp
     FROM chain_checkpoints c LEFT JOIN indexed_blocks b ON b.block_hash = c.block_hash
     WHERE starts_with(c.stream, $1) ORDER BY c.stream`,
    [STREAM_PREFIX],
  );
  if (rows.length === 0) return null;
  const stored = new Map(rows.map((r) => [r.stream.slice(STREAM_PREFIX.length), r.contract]));
  const same =
    stored.size === contracts.streams.size &&
    [...contracts.streams].every(([role, address]) => stored.get(role) === address);
  if (!same) return "changed";
  const first = rows[0]!;
  if (
    rows.some((r) => r.block_hash !== first.block_hash) ||
    first.parent_hash === null ||
    first.block_timestamp === null
  ) {
    throw new ChainIndexerError("the indexer's checkpoints disagree or their block is not recorded", {
      details: { checkpoints: rows.map((r) => ({ stream: r.stream, block: r.block_number.toString() })) },
    });
  }
  return {
    number: first.block_number,
    hash: first.block_hash,
    parentHash: first.parent_hash,
    timestamp: first.block_timestamp,
  };
}

/**
 * Moves every checkpoint to `block`, records the block among the indexed ones and forgets those
 * more than `retainBlocks` below it (no reorg is followed that deep).
 */
export async function writeCheckpoint(
  tx: Queryable,
  contracts: ContractSet,
  block: BlockRef,
  retainBlocks: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO indexed_blocks (block_number, block_hash, parent_hash, block_timestamp) VALUES ($1, $2, $3, $4)
     ON CONFLICT (block_number) DO UPDATE
       SET block_hash = EXCLUDED.block_hash, parent_hash = EXCLUDED.parent_hash,
           block_timestamp = EXCLUDED.block_timestamp`,
    [block.number, block.hash, block.parentHash, block.timestamp],
  );
  await tx.query(
    `INSERT INTO chain_checkpoints (stream, contract, block_number, block_hash)
     SELECT $1 || s.role, s.address, $2, $3 FROM jsonb_to_recordset($4::jsonb) AS s(role text, address text)
     ON CONFLICT (stream) DO UPDATE
       SET contract = EXCLUDED.contract, block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash,
           updated_at = now()`,
    [
      STREAM_PREFIX,
      block.number,
      block.hash,
      JSON.stringify([...contracts.streams].map(([role, address]) => ({ role, address }))),
    ],
  );
  await tx.query("DELETE FROM indexed_blocks WHERE block_number < $1", [block.number - BigInt(retainBlocks)]);
}

/** Forgets the index entirely: no checkpoint, no events, no remembered blocks. Returns the events dropped. */
export async function clearIndex(tx: Queryable): Promise<number> {
  await tx.query("DELETE FROM chain_checkpoints WHERE starts_with(stream, $1)", [STREAM_PREFIX]);
  await tx.query("DELETE FROM indexed_blocks");
  return (await tx.query("DELETE FROM chain_events")).rowCount;
}

export function sameBlock(a: BlockRef | null | "changed", b: BlockRef | null): boolean {
  if (a === "changed") return false;
  return a === null || b === null ? a === b : a.number === b.number && a.hash === b.hash;
}

/**
 * How far the index reaches: the checkpoint's block and its timestamp, or block −1 and time 0
 * before anything was indexed (time 0 is past no gate closure, so nothing is cleared on it).
 */
export async function readIndexedThrough(q: Queryable): Promise<{ block: bigint; timestamp: bigint }> {
  const { rows } = await q.query<{ block_number: bigint; block_timestamp: bigint }>(
    `SELECT c.block_number, b.block_timestamp
     FROM chain_checkpoints c JOIN indexed_blocks b ON b.block_hash = c.block_hash
     WHERE starts_with(c.stream, $1) ORDER BY c.block_number LIMIT 1`,
    [STREAM_PREFIX],
  );
  const row = rows[0];
  return row === undefined
    ? { block: -1n, timestamp: 0n }
    : { block: row.block_number, timestamp: row.block_timestamp };
}
