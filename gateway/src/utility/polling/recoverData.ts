import { HOUR_MS, hourName } from "../../microgrid/controllerApi.js";
import type { Queryable } from "../../store/index.js";
import { mapBounded } from "../common/mapBounded.js";
import { UnknownControllerError } from "../utilityErrors.js";
import { failedRequestQueue } from "./failedRequestQueue.js";
import { BACKUP_WEEKS, WEEK_MS, type HourCollector } from "./hourCollector.js";

export interface RecoveryOptions {
  /** One controller, or every controller of the fleet. */
  controllerId?: string | undefined;
  /** Re-request every hour, held or not (e.g. after meter records were lost but usage_hours was not). */
  all?: boolean | undefined;
  /** How far back, in weeks: at most the ten weeks controllers keep backups. */
  weeks?: number | undefined;
  now: number;
}

export interface ControllerRecovery {
  controllerId: string;
  /** Hours the controller listed in the window (null when listing failed or was not asked). */
  listed: number | null;
  /** Hours queued for recovery now (an hour already in the FRQ keeps its row and is not counted). */
  queued: number;
  error?: string;
}

/** The window recovery covers: from the oldest whole hour `weeks` back to the last completed hour. */
export function recoveryWindow(now: number, weeks = BACKUP_WEEKS): { fromMs: number; toMs: number } {
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > BACKUP_WEEKS)
    throw new RangeError(`recovery reaches 1 to ${BACKUP_WEEKS} weeks back, not ${weeks}`);
  return {
    fromMs: Math.ceil((now - weeks * WEEK_MS) / HOUR_MS) * HOUR_MS,
    toMs: Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS,
  };
}

/**
 * Seed 000's Recover_data, planning half: asks each controller (at most `concurrency` at once)
 * which hours it holds in the window and queues, with reason `recovery`, every hour the CIDB does
 * not hold in full — no usage_hours row, or fewer readings accounted for (stored + refused) than the
 * controller lists — or every listed hour with `all`. The recovery drain then re-requests them from
 * the backups. Idempotent: asking again queues nothing already queued, and storing is idempotent.
 */
export async function planRecovery(
  collector: HourCollector,
  db: Queryable,
  options: RecoveryOptions & { concurrency: number },
): Promise<ControllerRecovery[]> {
  const { fromMs, toMs } = recoveryWindow(options.now, options.weeks);
  const ids = targets(collector.controllerIds, options.controllerId);
  return mapBounded(ids, options.concurrency, async (controllerId): Promise<ControllerRecovery> => {
    let listed: { hour: string; readings: number }[];
    try {
      const answer = await collector.client(controllerId).usageHours(hourName(fromMs), hourName(toMs));
      listed = answer.hours.filter((h) => {
        const start = Date.parse(h.hour);
        return start >= fromMs && start <= toMs;
      });
    } catch (error) {
      return {
        controllerId,
        listed: null,
        queued: 0,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const { rows } = await db.query<{ hour: Date; accounted: number }>(
      `SELECT hour, records + rejected AS accounted FROM usage_hours
       WHERE controller_id = $1 AND hour BETWEEN $2 AND $3`,
      [controllerId, new Date(fromMs), new Date(toMs)],
    );
    const held = new Map(rows.map((r) => [hourName(r.hour.getTime()), r.accounted]));
    const wanted = listed.filter((h) => options.all === true || (held.get(h.hour) ?? -1) < h.readings);
    const queued = await failedRequestQueue.enqueue(
      db,
      wanted.map((h) => ({ controllerId, hour: h.hour })),
      "recovery",
      options.now,
    );
    return { controllerId, listed: listed.length, queued };
  });
}

/**
 * Recovery queued from the CIDB alone (the operator API, which has no controller connections):
 * every hour of the window that usage_hours lacks, or every hour with `all`. Without the
 * controller's listing it cannot see hours held only in part; planRecovery can.
 */
export async function queueRecoveryWindow(
  db: Queryable,
  options: RecoveryOptions & { controllerIds: readonly string[] },
): Promise<ControllerRecovery[]> {
  const { fromMs, toMs } = recoveryWindow(options.now, options.weeks);
  const ids = targets(options.controllerIds, options.controllerId, "the CIDB");
  const { rows } = await db.query<{ controller_id: string; queued: string }>(
    `WITH queued AS (
       INSERT INTO failed_requests (controller_id, hour, reason, attempts, first_failed_at, last_failed_at)
       SELECT c, h, 'recovery', 1, $5, $5
       FROM unnest($1::text[]) AS c CROSS JOIN generate_series($2::timestamptz, $3::timestamptz, interval '1 hour') AS h
       WHERE $4 OR NOT EXISTS (SELECT 1 FROM usage_hours u WHERE u.controller_id = c AND u.hour = h)
       ON CONFLICT (controller_id, hour) DO NOTHING
       RETURNING controller_id)
     SELECT controller_id, count(*)::text AS queued FROM queued GROUP BY controller_id`,
    [ids, new Date(fromMs), new Date(toMs), options.all === true, new Date(options.now)],
  );
  const counts = new Map(rows.map((r) => [r.controller_id, Number(r.queued)]));
  return ids.map((controllerId) => ({ controllerId, listed: null, queued: counts.get(controllerId) ?? 0 }));
}

function targets(known: readonly string[], controllerId: string | undefined, where = "the fleet"): string[] {
  if (controllerId === undefined) return [...known];
  if (!known.includes(controllerId)) throw new UnknownControllerError([controllerId], where);
  return [controllerId];
}
