import type { Queryable } from "../../store/index.js";
import type { ChainEvent } from "../chainEvent.js";

/**
 * The part of a projection one event changes: an interval of the order book, a meter, a schedule.
 * Values are strings so that keys compare and serialise exactly.
 */
export type PartitionKey = Readonly<Record<string, string>>;

/**
 * A read model built only from chain_events. Partitions are independent of each other (no event of
 * one partition changes a row of another), which is what lets a reorg delete and replay just the
 * partitions its orphaned events touched.
 */
export interface Projection {
  readonly name: string;
  /** The event names this projection reads; every other event leaves it alone. */
  readonly events: ReadonlySet<string>;
  apply(tx: Queryable, event: ChainEvent): Promise<void>;
  /** The partition `event` changes; called while the projection still holds what it did. */
  partitionOf(tx: Queryable, event: ChainEvent): Promise<PartitionKey>;
  /** Deletes the rows of `partitions`, or every row. */
  clear(tx: Queryable, partitions: readonly PartitionKey[] | "all"): Promise<void>;
  /**
   * SQL condition on chain_events aliased `e` that holds for the events of the partitions given as
   * a JSON array of keys in the parameter written `$KEYS`.
   */
  readonly partitionFilter: string;
}

/** The placeholder `partitionFilter` uses for its JSON array of partition keys. */
export const KEYS = "$KEYS";

/** A JSON array of partition keys as the text parameter `partitionFilter` and `clear` read. */
export function keysParam(partitions: readonly PartitionKey[]): string {
  return JSON.stringify(partitions);
}
