import type { Queryable } from "../store/index.js";
import type { ChainEvent } from "./chainEvent.js";
import { eventOfRow, type EventRow } from "./projections/replay.js";

/**
 * Appends `events` to chain_events in one statement and returns those that were not there yet,
 * in their given order: a log stored before is never applied to the projections twice.
 */
export async function appendEvents(tx: Queryable, events: readonly ChainEvent[]): Promise<ChainEvent[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.query<{ block_hash: string; log_index: number }>(
    `INSERT INTO chain_events (block_hash, log_index, block_number, tx_hash, contract, event_name, args)
     SELECT e.block_hash, e.log_index, e.block_number, e.tx_hash, e.contract, e.event_name, e.args
     FROM jsonb_to_recordset($1::jsonb) AS e(block_hash text, log_index integer, block_number bigint, tx_hash text,
       contract text, event_name text, args jsonb)
     ON CONFLICT (block_hash, log_index) DO NOTHING
     RETURNING block_hash, log_index`,
    [
      JSON.stringify(
        events.map((e) => ({
          block_hash: e.blockHash,
          log_index: e.logIndex,
          block_number: e.blockNumber.toString(),
          tx_hash: e.txHash,
          contract: e.contract,
          event_name: e.name,
          args: e.args,
        })),
      ),
    ],
  );
  const added = new Set(rows.map((r) => `${r.block_hash}/${r.log_index}`));
  return events.filter((e) => added.has(`${e.blockHash}/${e.logIndex}`));
}

/** The stored events of blocks after `block` (all of them for null), in chain order. */
export async function eventsAfter(q: Queryable, block: bigint | null): Promise<ChainEvent[]> {
  const { rows } = await q.query<EventRow & Record<string, unknown>>(
    `SELECT block_number, block_hash, log_index, tx_hash, contract, event_name, args FROM chain_events
     WHERE block_number > $1 ORDER BY block_number, log_index`,
    [block ?? -1n],
  );
  return rows.map(eventOfRow);
}
