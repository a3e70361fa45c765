import { HOUR_MS, hourName } from "../../microgrid/controllerApi.js";
import type { Queryable } from "../../store/index.js";
import { mapBounded } from "../common/mapBounded.js";
import { BACKUP_WEEKS, WEEK_MS, type CollectOutcome, type HourCollector } from "./hourCollector.js";

export interface QueryDataResult {
  hour: string;
  /** Earlier hours found neither held nor queued, now in the FRQ. */
  caughtUp: number;
  stored: number;
  failed: number;
  /** Controllers whose hour was held already (a restart within the hour). */
  alreadyHeld: number;
}

/**
 * Seed 000's Query_data: asks every controller, at most `concurrency` at once, for the last hour
 * completed at `now`; a failure lands in the FRQ. First it queues every earlier hour that is neither
 * held nor queued (catch-up), so a utility that was down, or whose loop stalled, gets every hour
 * its controllers kept.
 */
export async function queryData(
  collector: HourCollector,
  db: Queryable,
  options: { now: number; concurrency: number },
): Promise<QueryDataResult> {
  const hourStart = Math.floor(options.now / HOUR_MS) * HOUR_MS - HOUR_MS;
  const hour = hourName(hourStart);
  const controllerIds = collector.controllerIds;
  const caughtUp = await enqueueCatchUp(db, { controllerIds, beforeMs: hourStart, now: options.now });
  const { rows } = await db.query<{ controller_id: string }>(
    "SELECT controller_id FROM usage_hours WHERE hour = $1::timestamptz AND controller_id = ANY($2::text[])",
    [hour, controllerIds],
  );
  const held = new Set(rows.map((r) => r.controller_id));
  const outcomes = await mapBounded(
    controllerIds.filter((id) => !held.has(id)),
    options.concurrency,
    (id): Promise<CollectOutcome> => collector.collect(id, hour),
  );
  return {
    hour,
    caughtUp,
    stored: outcomes.filter((o) => o.status === "stored").length,
    failed: outcomes.filter((o) => o.status === "failed").length,
    alreadyHeld: held.size,
  };
}

/**
 * Queues (reason `catch-up`) every hour before `beforeMs` that a controller's usage_hours lacks and
 * the FRQ does not hold, from the hour the controller joined the fleet, at most ten weeks back
 * (controllers keep nothing older). Gaps anywhere in that window count, not only after the last
 * hour held: a crash between a get and its bookkeeping cannot leave a hole behind.
 */
export async function enqueueCatchUp(
  db: Queryable,
  options: { controllerIds: readonly string[]; beforeMs: number; now: number },
): Promise<number> {
  const oldest = Math.ceil((options.now - BACKUP_WEEKS * WEEK_MS) / HOUR_MS) * HOUR_MS;
  const { rowCount } = await db.query(
    `INSERT INTO failed_requests (controller_id, hour, reason, attempts, first_failed_at, last_failed_at)
     SELECT c.controller_id, h, 'catch-up', 1, $4, $4
     FROM microgrid_controllers c
     CROSS JOIN LATERAL generate_series(GREATEST(date_trunc('hour', c.created_at, 'UTC'), $2::timestamptz),
                                        $3::timestamptz - interval '1 hour', interval '1 hour') AS h
     WHERE c.controller_id = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM usage_hours u WHERE u.controller_id = c.controller_id AND u.hour = h)
     ON CONFLICT (controller_id, hour) DO NOTHING`,
    [options.controllerIds, new Date(oldest), new Date(options.beforeMs), new Date(options.now)],
  );
  return rowCount;
}
