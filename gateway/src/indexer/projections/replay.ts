import type { Queryable } from "../../store/index.js";
import type { ChainEvent, EventArgs } from "../chainEvent.js";
import { deviceProjection } from "./deviceProjection.js";
import { ledgerProjection } from "./ledgerProjection.js";
import { marketProjection } from "./marketProjection.js";
import { KEYS, keysParam, type PartitionKey, type Projection } from "./projection.js";
import { scheduleProjection } from "./scheduleProjection.js";

/** Every read model the indexer keeps; each event feeds at most one of them. */
export const projections: readonly Projection[] = [
  marketProjection,
  deviceProjection,
  ledgerProjection,
  scheduleProjection,
];

const byEvent = new Map<string, Projection>(
  projections.flatMap((p) => [...p.events].map((name) => [name, p])),
);

/** Events replayed per query: bounded memory however long the log. */
const PAGE = 1_000;

/** Applies newly stored events, in chain order, to the projection each one feeds. */
export async function applyEvents(tx: Queryable, events: readonly ChainEvent[]): Promise<void> {
  for (const event of events) await byEvent.get(event.name)?.apply(tx, event);
}

/**
 * Deletes `orphaned` events (already gone from chain_events or about to be) from the projections by
 * rebuilding every partition they touched from the events that remain. Must run while the rows
 * the orphaned events produced are still there (an OrderReleased finds its interval through them)
 * and after the orphaned events left chain_events; `deleteOrphans` is called in between.
 */
export async function rebuildTouched(
  tx: Queryable,
  orphaned: readonly ChainEvent[],
  deleteOrphans: () => Promise<void>,
): Promise<void> {
  const touched = new Map<Projection, Map<string, PartitionKey>>();
  for (const event of orphaned) {
    const projection = byEvent.get(event.name);
    if (projection === undefined) continue;
    const key = await projection.partitionOf(tx, event);
    const keys = touched.get(projection) ?? new Map<string, PartitionKey>();
    keys.set(JSON.stringify(key), key);
    touched.set(projection, keys);
  }
  await deleteOrphans();
  for (const [projection, keys] of touched) {
    const partitions = [...keys.values()];
    await projection.clear(tx, partitions);
    await replay(tx, [...projection.events], { filter: projection.partitionFilter, keys: partitions });
  }
}

/** Empties every projection and replays the whole of chain_events into them. */
export async function rebuildAll(tx: Queryable): Promise<void> {
  for (const projection of projections) await projection.clear(tx, "all");
  await replay(tx, [...byEvent.keys()]);
}

interface EventRow {
  block_number: bigint;
  block_hash: string;
  log_index: number;
  tx_hash: string;
  contract: string;
  event_name: string;
  args: EventArgs;
}

/** Applies the stored events named `names` (of the given partitions only, if any), in chain order. */
async function replay(
  tx: Queryable,
  names: string[],
  partitions?: { filter: string; keys: readonly PartitionKey[] },
): Promise<void> {
  const params: unknown[] = [names];
  let where = "e.event_name = ANY($1::text[])";
  if (partitions !== undefined) {
    params.push(keysParam(partitions.keys));
    where += ` AND ${partitions.filter.replaceAll(KEYS, "$2")}`;
  }
  const from = `$${params.length + 1}`;
  const sql = `SELECT e.block_number, e.block_hash, e.log_index, e.tx_hash, e.contract, e.event_name, e.args
    FROM chain_events e
    WHERE ${where} AND (e.block_number, e.log_index) > (${from}::bigint, $${params.length + 2}::integer)
    ORDER BY e.block_number, e.log_index LIMIT ${PAGE}`;
  let after: [bigint, number] = [-1n, -1];
  for (;;) {
    const { rows } = await tx.query<EventRow & Record<string, unknown>>(sql, [...params, ...after]);
    await applyEvents(tx, rows.map(eventOfRow));
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return;
    after = [last.block_number, last.log_index];
  }
}

export function eventOfRow(row: EventRow): ChainEvent {
  return {
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    logIndex: row.log_index,
    txHash: row.tx_hash,
    contract: row.contract,
    name: row.event_name,
    args: row.args,
  };
}

export type { EventRow };
