import { ChainIndexerError } from "./chainIndexerError.js";

/**
 * A decoded argument as stored in chain_events.args: integers as decimal strings (JSON numbers
 * lose precision past 2^53), addresses and byte strings as lower-case hex, structs as objects
 * keyed by field name, arrays as arrays.
 */
export type EventArg = string | boolean | EventArg[] | { [field: string]: EventArg };
export type EventArgs = { [name: string]: EventArg };

/** One contract event, as stored in chain_events and as the projections read it. */
export interface ChainEvent {
  blockNumber: bigint;
  blockHash: string;
  logIndex: number;
  txHash: string;
  /** Lower-case address of the emitting contract. */
  contract: string;
  name: string;
  args: EventArgs;
}

/** A string argument (integer, address, bytes) of `event`; throws if the stored event lacks it. */
export function argOf(event: ChainEvent, name: string): string {
  return stringIn(event.args, name, event);
}

/** A string field of a struct argument. */
export function fieldOf(event: ChainEvent, struct: string, field: string): string {
  const value = event.args[struct];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(event, struct);
  }
  return stringIn(value, field, event);
}

export function boolOf(event: ChainEvent, name: string): boolean {
  const value = event.args[name];
  if (typeof value !== "boolean") throw malformed(event, name);
  return value;
}

function stringIn(args: { [field: string]: EventArg }, name: string, event: ChainEvent): string {
  const value = args[name];
  if (typeof value !== "string") throw malformed(event, name);
  return value;
}

function malformed(event: ChainEvent, name: string): ChainIndexerError {
  return new ChainIndexerError(`stored ${event.name} event lacks argument ${name}`, {
    details: { blockHash: event.blockHash, logIndex: event.logIndex, args: event.args },
  });
}

/** Where an event sits on the chain, for logs and errors. */
export function eventPosition(event: ChainEvent): string {
  return `${event.name} at block ${event.blockNumber} log ${event.logIndex}`;
}
