import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import { controllerCommandSchema, type ControllerCommandInput } from "../../microgrid/controllerApi.js";
import type { Database, Queryable } from "../../store/index.js";
import { mapBounded } from "../common/mapBounded.js";
import type { ControllerClient } from "../controllers/controllerClient.js";
import { ControllerRequestError } from "../controllers/controllerRequestError.js";
import { CommandRejectedError, UnknownControllerError } from "../utilityErrors.js";

export interface QueuedCommand {
  id: string;
  controllerId: string;
}

/**
 * Queues a utility command for each of `controllerIds` (every controller when omitted): one
 * controller_commands row per controller, delivered in order by CommandDelivery. Validated here,
 * so that nothing the controller contract refuses is ever queued.
 */
export async function enqueueControllerCommand(
  db: Queryable,
  options: { controllerIds?: readonly string[] | undefined; command: ControllerCommandInput; now: number },
): Promise<QueuedCommand[]> {
  const parsed = controllerCommandSchema.safeParse(options.command);
  if (!parsed.success) {
    throw new CommandRejectedError(
      parsed.error.issues.map((i) => ({
        path: i.path.map(String).join(".") || "command",
        message: i.message,
      })),
    );
  }
  const { rows: known } = await db.query<{ controller_id: string }>(
    "SELECT controller_id FROM microgrid_controllers ORDER BY controller_id",
  );
  const all = known.map((r) => r.controller_id);
  const targets = options.controllerIds === undefined ? all : [...new Set(options.controllerIds)];
  const unknown = targets.filter((id) => !all.includes(id));
  if (unknown.length > 0) throw new UnknownControllerError(unknown, "the CIDB");
  const { rows } = await db.query<{ id: bigint; controller_id: string }>(
    `INSERT INTO controller_commands (controller_id, command, params, created_at)
     SELECT c, $2, $3::jsonb, $4 FROM unnest($1::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n
     RETURNING id, controller_id`,
    [targets, parsed.data.command, JSON.stringify(parsed.data.params), new Date(options.now)],
  );
  return rows.map((r) => ({ id: r.id.toString(), controllerId: r.controller_id }));
}

export interface CommandDeliveryParameters {
  db: Database;
  clients: ReadonlyMap<string, ControllerClient>;
  clock: Clock;
  logger: Logger;
  concurrency: number;
  /** Longest wait after a failed delivery before the controller's queue is tried again. */
  backoffMaxMs: number;
}

export interface DeliveryResult {
  delivered: number;
  refused: number;
  failed: number;
}

type PendingRow = { id: bigint; controller_id: string; command: string; params: unknown };

/**
 * Delivers the command outbox: each controller's pending commands in the order they were queued,
 * controllers in parallel. A command the controller refuses (a 4xx about the command itself) is
 * marked refused with the controller's reason and the queue moves on; any other failure stops that
 * controller's queue, which is retried after a backoff that doubles per failure. Commands are
 * idempotent on the controller (they set state), so one resent after a lost answer does no harm.
 */
export class CommandDelivery {
  readonly #p: CommandDeliveryParameters;
  readonly #backoff = new Map<string, { failures: number; untilMs: number }>();

  constructor(parameters: CommandDeliveryParameters) {
    this.#p = parameters;
  }

  async deliverOnce(): Promise<DeliveryResult> {
    const { db, clock } = this.#p;
    const { rows } = await db.query<{ controller_id: string }>(
      "SELECT DISTINCT controller_id FROM controller_commands WHERE status = 'pending' ORDER BY controller_id",
    );
    const now = clock.now();
    const ready = rows
      .map((r) => r.controller_id)
      .filter((id) => this.#p.clients.has(id) && (this.#backoff.get(id)?.untilMs ?? 0) <= now);
    const result: DeliveryResult = { delivered: 0, refused: 0, failed: 0 };
    await mapBounded(ready, this.#p.concurrency, async (controllerId) => {
      const r = await this.#deliver(controllerId);
      result.delivered += r.delivered;
      result.refused += r.refused;
      result.failed += r.failed;
    });
    return result;
  }

  async #deliver(controllerId: string): Promise<DeliveryResult> {
    const { db, clock, logger } = this.#p;
    const client = this.#p.clients.get(controllerId)!;
    const result: DeliveryResult = { delivered: 0, refused: 0, failed: 0 };
    const { rows } = await db.query<PendingRow>(
      `SELECT id, controller_id, command, params FROM controller_commands
       WHERE controller_id = $1 AND status = 'pending' ORDER BY id LIMIT 100`,
      [controllerId],
    );
    for (const row of rows) {
      const parsed = controllerCommandSchema.safeParse({ command: row.command, params: row.params });
      if (!parsed.success) {
        // Rows queued by other parts of the utility are checked again: a bad one must not block the queue.
        const why = parsed.error.issues
          .map((i) => `${i.path.map(String).join(".")}: ${i.message}`)
          .join("; ");
        await this.#finish(row.id, "refused", `invalid command in the outbox: ${why}`);
        logger.error(
          { controllerId, id: row.id, command: row.command, why },
          "invalid command in the outbox refused",
        );
        result.refused++;
        continue;
      }
      try {
        await client.command(parsed.data);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof ControllerRequestError && error.refused) {
          await this.#finish(row.id, "refused", message);
          logger.warn(
            { controllerId, id: row.id, command: row.command, err: error },
            "controller refused a command",
          );
          result.refused++;
          continue;
        }
        await db.query(
          "UPDATE controller_commands SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
          [row.id, message.slice(0, 2000)],
        );
        const failures = (this.#backoff.get(controllerId)?.failures ?? 0) + 1;
        const waitMs = Math.min(this.#p.backoffMaxMs, 1000 * 2 ** Math.min(failures - 1, 30));
        this.#backoff.set(controllerId, { failures, untilMs: clock.now() + waitMs });
        logger.warn(
          { controllerId, id: row.id, command: row.command, err: error, retryInMs: waitMs },
          "command delivery failed; the controller's queue waits and retries",
        );
        result.failed++;
        return result;
      }
      await this.#finish(row.id, "delivered", null);
      logger.info({ controllerId, id: row.id, command: row.command }, "command delivered to controller");
      result.delivered++;
    }
    this.#backoff.delete(controllerId);
    return result;
  }

  async #finish(id: bigint, status: "delivered" | "refused", error: string | null): Promise<void> {
    await this.#p.db.query(
      `UPDATE controller_commands SET status = $2, attempts = attempts + 1, last_error = $3,
         delivered_at = CASE WHEN $2 = 'delivered' THEN $4::timestamptz END
       WHERE id = $1`,
      [id, status, error?.slice(0, 2000) ?? null, new Date(this.#p.clock.now())],
    );
  }
}
