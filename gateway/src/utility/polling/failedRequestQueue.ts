import type { Queryable } from "../../store/index.js";
import { hourName } from "../../microgrid/controllerApi.js";

/**
 * Why an hour is in the queue:
 * - `failed`: its `get` failed;
 * - `catch-up`: it was never asked for (the utility was down or its loop stalled);
 * - `recovery`: it is being re-requested from the controller's backups (Recover_data).
 * Failed and catch-up hours are remade one per second (seed 000); recovery drains at its own pace.
 */
export type FailedRequestReason = "failed" | "catch-up" | "recovery";

export interface FailedRequest {
  id: bigint;
  controllerId: string;
  hour: string;
  reason: FailedRequestReason;
  attempts: number;
  lastError: string | null;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

type Row = {
  id: bigint;
  controller_id: string;
  hour: Date;
  reason: FailedRequestReason;
  attempts: number;
  last_error: string | null;
  first_failed_at: Date;
  last_failed_at: Date;
};

const toRequest = (r: Row): FailedRequest => ({
  id: r.id,
  controllerId: r.controller_id,
  hour: hourName(r.hour.getTime()),
  reason: r.reason,
  attempts: r.attempts,
  lastError: r.last_error,
  firstFailedAt: r.first_failed_at,
  lastFailedAt: r.last_failed_at,
});

/**
 * Seed 000's Failed Request Queue, a table that commits with the records it stands for: an hour
 * leaves it in the transaction that stores the hour (storeHour). Rows carry their own backoff
 * (base × 2^(attempts − 1), capped) so a dead controller waits instead of spinning while the
 * others' hours go through; a row never tried yet (no last_error: queued by catch-up or recovery) is
 * due at once. first/last_failed_at are when the row was queued and last tried.
 */
export const failedRequestQueue = {
  /** Queues hours not yet queued; an hour already there keeps its row. Returns how many were added. */
  async enqueue(
    db: Queryable,
    hours: readonly { controllerId: string; hour: string }[],
    reason: FailedRequestReason,
    now: number,
  ): Promise<number> {
    if (hours.length === 0) return 0;
    const { rowCount } = await db.query(
      `INSERT INTO failed_requests (controller_id, hour, reason, attempts, first_failed_at, last_failed_at)
       SELECT e->>'controllerId', (e->>'hour')::timestamptz, $2, 1, $3, $3 FROM jsonb_array_elements($1::jsonb) AS e
       ON CONFLICT (controller_id, hour) DO NOTHING`,
      [JSON.stringify(hours), reason, new Date(now)],
    );
    return rowCount;
  },

  /** A get for the hour failed: queue it, or count one more attempt on its row. */
  async recordFailure(
    db: Queryable,
    failure: { controllerId: string; hour: string; error: string },
    now: number,
  ): Promise<void> {
    await db.query(
      `INSERT INTO failed_requests (controller_id, hour, reason, attempts, last_error, first_failed_at, last_failed_at)
       VALUES ($1, $2::timestamptz, 'failed', 1, $3, $4, $4)
       ON CONFLICT (controller_id, hour) DO UPDATE
         SET attempts = failed_requests.attempts + 1, last_error = EXCLUDED.last_error,
             last_failed_at = EXCLUDED.last_failed_at`,
      [failure.controllerId, failure.hour, failure.error.slice(0, 2000), new Date(now)],
    );
  },

  /**
   * Rows whose backoff has run out, oldest hour first. `recovery` selects the recovery rows, else
   * the others; `skip` are keys (`controllerId/hour`) already being worked on.
   */
  async due(
    db: Queryable,
    options: { now: number; backoff: Backoff; recovery: boolean; limit: number; skip?: ReadonlySet<string> },
  ): Promise<FailedRequest[]> {
    const skip = options.skip ?? new Set<string>();
    const { rows } = await db.query<Row>(
      `SELECT id, controller_id, hour, reason, attempts, last_error, first_failed_at, last_failed_at
       FROM failed_requests
       WHERE (reason = 'recovery') = $1
         AND (last_error IS NULL
              OR last_failed_at + make_interval(secs => LEAST($3::float8, $2::float8 * power(2, LEAST(attempts - 1, 40))) / 1000)
                 <= $4)
       ORDER BY hour, controller_id
       LIMIT $5`,
      [
        options.recovery,
        options.backoff.baseMs,
        options.backoff.maxMs,
        new Date(options.now),
        options.limit + skip.size,
      ],
    );
    return rows
      .map(toRequest)
      .filter((r) => !skip.has(requestKey(r.controllerId, r.hour)))
      .slice(0, options.limit);
  },

  async list(db: Queryable, options: { controllerId?: string; limit: number }): Promise<FailedRequest[]> {
    const { rows } = await db.query<Row>(
      `SELECT id, controller_id, hour, reason, attempts, last_error, first_failed_at, last_failed_at
       FROM failed_requests WHERE ($1::text IS NULL OR controller_id = $1) ORDER BY hour, controller_id LIMIT $2`,
      [options.controllerId ?? null, options.limit],
    );
    return rows.map(toRequest);
  },
};

export const requestKey = (controllerId: string, hour: string) => `${controllerId}/${hour}`;
