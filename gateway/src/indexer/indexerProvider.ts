import { JsonRpcProvider } from "ethers";

import type { BlockRef } from "./checkpoint.js";
import { ChainIndexerError } from "./chainIndexerError.js";
import type { RawLog } from "./indexedContracts.js";

/** A block header as ethers' `Block` has it. */
export interface RawBlock {
  number: number;
  hash: string | null;
  parentHash: string;
  timestamp: number;
}

/**
 * The three JSON-RPC reads the indexer makes; any ethers v6 `Provider` has them. It must not cache:
 * after a reorg the same block number names another block.
 */
export interface IndexerProvider {
  getBlockNumber(): Promise<number>;
  getBlock(blockNumber: number): Promise<RawBlock | null>;
  getLogs(filter: { address: string[]; fromBlock: number; toBlock: number }): Promise<readonly RawLog[]>;
}

/**
 * An ethers JSON-RPC provider fit for the indexer: no request cache (ethers reuses answers for
 * 250 ms by default, which would hide a reorg) and no network detection on every call.
 */
export function createIndexerProvider(rpcUrl: string): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, undefined, { cacheTimeout: -1, staticNetwork: true });
}

/** Block `number` from the node, or null when the chain is not that long (any more). */
export async function fetchBlock(provider: IndexerProvider, number: bigint): Promise<BlockRef | null> {
  let block: RawBlock | null;
  try {
    block = await provider.getBlock(Number(number));
  } catch (error) {
    throw rpcError(`reading block ${number}`, error);
  }
  if (block === null || block.hash === null) return null;
  return {
    number: BigInt(block.number),
    hash: block.hash.toLowerCase(),
    parentHash: block.parentHash.toLowerCase(),
    timestamp: BigInt(block.timestamp),
  };
}

export function rpcError(doing: string, error: unknown): ChainIndexerError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ChainIndexerError(`the node failed ${doing}: ${reason}`, { retryable: true, cause: error });
}
