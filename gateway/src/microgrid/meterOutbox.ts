import type { DatabaseSync, StatementSync } from "node:sqlite";

import { canonicalJson, type MeterCommandParamsInput } from "@gridmesh/contracts";

import { inTransaction } from "./controllerDatabase.js";

/** Commands the controller sends to meters for the utility or on its own (seed 000 §2.1.2–2.1.3). */
export type ForwardedCommand = {
  [K in ForwardedCommandName]: { command: K; params: MeterCommandParamsInput<K> };
}[ForwardedCommandName];

export type ForwardedCommandName =
  | "put_billing_rates"
  | "reduce_power_demand_on"
  | "reduce_power_demand_off"
  | "set_data_interval"
  | "share_power_on"
  | "share_power_off";

export interface OutboxEntry {
  id: number;
  meter: string;
  command: ForwardedCommand;
  attempts: number;
}

/**
 * What a command sets on the meter. Only the newest command per slot matters, so a newer one
 * replaces a pending older one instead of queueing behind it: a meter that is unreachable for a
 * day gets one share_power command when it is back, not every change it missed.
 */
export function slotOf(c: ForwardedCommand): string {
  switch (c.command) {
    case "share_power_on":
    case "share_power_off":
      return "share_power";
    case "reduce_power_demand_on":
    case "reduce_power_demand_off":
      return "reduce_power_demand";
    case "set_data_interval":
      return "set_data_interval";
    case "put_billing_rates":
      return `put_billing_rates:${c.params.month}`;
  }
}

/**
 * The per-meter persistent outbox: commands are delivered in the order they were queued, each
 * retried until the meter takes it or refuses it. Entries are kept after delivery (as a record of
 * what each meter was told) and collected with the usage backups.
 */
export class MeterOutbox {
  readonly #db: DatabaseSync;
  readonly #q: Record<
    "supersede" | "insert" | "next" | "inSlot" | "pending" | "done" | "failed" | "collect",
    StatementSync
  >;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#q = {
      supersede: db.prepare(`UPDATE meter_outbox SET status = 'superseded', done_ms = ?
                             WHERE meter = ? AND slot = ? AND status = 'pending'`),
      insert: db.prepare(
        `INSERT INTO meter_outbox (meter, slot, command, params, created_ms) VALUES (?, ?, ?, ?, ?)`,
      ),
      next: db.prepare(`SELECT id, meter, command, params, attempts FROM meter_outbox
                        WHERE meter = ? AND status = 'pending' ORDER BY id LIMIT 1`),
      inSlot: db.prepare(`SELECT id, meter, command, params, attempts FROM meter_outbox
                          WHERE meter = ? AND slot = ? AND status = 'pending' ORDER BY id DESC LIMIT 1`),
      pending: db.prepare(`SELECT id, meter, command, params, attempts FROM meter_outbox
                           WHERE status = 'pending' ORDER BY id`),
      done: db.prepare(`UPDATE meter_outbox SET status = ?, last_error = ?, done_ms = ? WHERE id = ?`),
      failed: db.prepare(`UPDATE meter_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`),
      collect: db.prepare(`DELETE FROM meter_outbox WHERE status <> 'pending' AND done_ms < ?`),
    };
  }

  /** Queues `command` for each of `meters` in one transaction. Returns how many were queued. */
  enqueue(meters: readonly string[], command: ForwardedCommand, nowMs: number): number {
    const slot = slotOf(command);
    const params = canonicalJson(command.params);
    return inTransaction(this.#db, () => {
      for (const meter of meters) {
        this.#q.supersede.run(nowMs, meter.toLowerCase(), slot);
        this.#q.insert.run(meter.toLowerCase(), slot, command.command, params, nowMs);
      }
      return meters.length;
    });
  }

  /** The oldest pending command for `meter`. */
  next(meter: string): OutboxEntry | undefined {
    const row = this.#q.next.get(meter.toLowerCase()) as OutboxRow | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  /** Every pending command, oldest first. */
  pending(): OutboxEntry[] {
    return (this.#q.pending.all() as unknown as OutboxRow[]).map(toEntry);
  }

  /** The pending command for `meter` in `slot` (see `slotOf`), if any. */
  pendingInSlot(meter: string, slot: string): OutboxEntry | undefined {
    const row = this.#q.inSlot.get(meter.toLowerCase(), slot) as OutboxRow | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  delivered(id: number, nowMs: number): void {
    this.#q.done.run("delivered", null, nowMs, id);
  }

  /** The meter will never take this command as it is: recorded, and not tried again. */
  refused(id: number, error: string, nowMs: number): void {
    this.#q.done.run("refused", error, nowMs, id);
  }

  /** A delivery attempt failed in a way that may pass (the meter was unreachable). */
  attemptFailed(id: number, error: string): void {
    this.#q.failed.run(error, id);
  }

  /** Deletes finished entries older than `beforeMs`; returns how many. */
  collect(beforeMs: number): number {
    return Number(this.#q.collect.run(beforeMs).changes);
  }
}

interface OutboxRow {
  id: number;
  meter: string;
  command: string;
  params: string;
  attempts: number;
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    meter: row.meter,
    command: { command: row.command, params: JSON.parse(row.params) as unknown } as ForwardedCommand,
    attempts: row.attempts,
  };
}
