import type { Queryable } from "../store/index.js";
import type { BlockRef } from "./checkpoint.js";
import { fetchBlock, type IndexerProvider } from "./indexerProvider.js";

/**
 * The newest block the index knows that is still on the chain, looking at most `depthLimit` blocks
 * below the checkpoint; null if there is none (a reorg deeper than that, or another chain).
 *
 * The known blocks are the remembered range ends and the blocks of the stored events. A block
 * hash commits to all its ancestors, so the first known block still on the chain (walking down)
 * proves everything below it unchanged, and every stored event above it is orphaned: had one
 * survived, its own block would have matched first.
 */
export async function findCommonAncestor(
  q: Queryable,
  provider: IndexerProvider,
  checkpoint: BlockRef,
  head: bigint,
  depthLimit: number,
): Promise<BlockRef | null> {
  const { rows } = await q.query<{ block_number: bigint; block_hash: string }>(
    `SELECT block_number, block_hash FROM indexed_blocks WHERE block_number BETWEEN $1 AND $2
     UNION
     SELECT DISTINCT block_number, block_hash FROM chain_events WHERE block_number BETWEEN $1 AND $2
     ORDER BY block_number DESC`,
    [checkpoint.number - BigInt(depthLimit), checkpoint.number],
  );
  for (const known of rows) {
    if (known.block_number > head) continue;
    const block = await fetchBlock(provider, known.block_number);
    if (block?.hash === known.block_hash) return block;
  }
  return null;
}
