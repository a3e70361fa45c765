import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import { HOUR_MS, hourName, hourStartMs } from "../../microgrid/controllerApi.js";
import type { SignerRecovery } from "../../relay/signerRecovery.js";
import type { Database } from "../../store/index.js";
import type { ControllerClient } from "../controllers/controllerClient.js";
import { ControllerRequestError } from "../controllers/controllerRequestError.js";
import { failedRequestQueue, requestKey } from "./failedRequestQueue.js";
import { checkReadings } from "./readingCheck.js";
import { storeHour, type StoredHour } from "./storeHour.js";

export interface HourCollectorParameters {
  db: Database;
  /** One client per controller of the fleet. */
  clients: ReadonlyMap<string, ControllerClient>;
  recovery: SignerRecovery;
  intervalSeconds: number;
  clock: Clock;
  logger: Logger;
}

export type CollectOutcome =
  | { status: "stored"; controllerId: string; hour: string; stored: StoredHour; acknowledged: boolean }
  | { status: "failed"; controllerId: string; hour: string; error: string }
  /** The same hour is being collected already (another loop got to it first). */
  | { status: "busy"; controllerId: string; hour: string };

/** Controllers keep backups ten weeks (seed 000 §2.1): an older hour cannot be acknowledged any more. */
export const BACKUP_WEEKS = 10;
export const WEEK_MS = 7 * 86_400_000;

/**
 * One controller hour from request to acknowledgement, the step Query_data, Remake_failed_requests
 * and Recover_data share: get the hour, check every reading, store the hour in one transaction
 * (which also takes it off the failed-request queue), then acknowledge it so the controller keeps
 * the file as a backup. A failed get queues the hour; a failed acknowledgement leaves the hour
 * stored and unacknowledged, to be acknowledged again later (the data is already safe).
 */
export class HourCollector {
  readonly #p: HourCollectorParameters;
  /** `controllerId/hour` keys being collected, so that two loops never fetch one hour at once. */
  readonly inFlight = new Set<string>();

  constructor(parameters: HourCollectorParameters) {
    this.#p = parameters;
  }

  get controllerIds(): string[] {
    return [...this.#p.clients.keys()];
  }

  client(controllerId: string): ControllerClient {
    const client = this.#p.clients.get(controllerId);
    if (client === undefined) throw new Error(`controller ${controllerId} is not in the fleet`);
    return client;
  }

  async collect(controllerId: string, hour: string): Promise<CollectOutcome> {
    const key = requestKey(controllerId, hour);
    if (this.inFlight.has(key)) return { status: "busy", controllerId, hour };
    this.inFlight.add(key);
    try {
      return await this.#collect(controllerId, hour);
    } finally {
      this.inFlight.delete(key);
    }
  }

  async #collect(controllerId: string, hour: string): Promise<CollectOutcome> {
    const { db, clock, logger } = this.#p;
    const client = this.client(controllerId);
    let readings: unknown[];
    try {
      readings = (await client.usageHour(hour)).readings;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.#pastBackups(hour, error)) {
        // Nothing can bring the hour back: stop asking, and leave it missing from usage_hours for
        // billing's completeness check to report.
        await db.query("DELETE FROM failed_requests WHERE controller_id = $1 AND hour = $2::timestamptz", [
          controllerId,
          hour,
        ]);
        logger.error(
          { controllerId, hour, err: error },
          "the controller no longer keeps this hour; given up",
        );
        return { status: "failed", controllerId, hour, error: message };
      }
      await failedRequestQueue.recordFailure(db, { controllerId, hour, error: message }, clock.now());
      logger.warn({ controllerId, hour, err: error }, "get of a controller hour failed; queued in the FRQ");
      return { status: "failed", controllerId, hour, error: message };
    }

    let stored: StoredHour;
    try {
      const { rows } = await db.query<{ meter: string }>(
        "SELECT meter FROM smart_meters WHERE controller_id = $1",
        [controllerId],
      );
      const checked = await checkReadings(readings, {
        controllerId,
        meters: new Set(rows.map((r) => r.meter)),
        recovery: this.#p.recovery,
        intervalSeconds: this.#p.intervalSeconds,
      });
      const now = clock.now();
      stored = await db.transaction((tx) =>
        storeHour(tx, { controllerId, hour, checked, intervalSeconds: this.#p.intervalSeconds, now }),
      );
      const refused = checked.flatMap((c) => (c.ok ? [] : [c.reason]));
      if (stored.rejected > 0) {
        logger.warn(
          {
            controllerId,
            hour,
            rejected: stored.rejected,
            firstReason: refused[0] ?? "conflict with a stored record",
          },
          "readings of a controller hour refused; kept in rejected_records",
        );
      }
    } catch (error) {
      // Queued, the hour is tried again within seconds instead of waiting for the next catch-up.
      const message = `storing failed: ${error instanceof Error ? error.message : String(error)}`;
      await failedRequestQueue
        .recordFailure(db, { controllerId, hour, error: message }, clock.now())
        .catch(() => {});
      throw error;
    }

    const acknowledged = await this.#acknowledge(client, hour);
    logger.info({ controllerId, hour, ...stored, acknowledged }, "controller hour stored");
    return { status: "stored", controllerId, hour, stored, acknowledged };
  }

  /** A 404 for an hour older than the ten weeks controllers keep backups: it is gone for good. */
  #pastBackups(hour: string, error: unknown): boolean {
    return (
      error instanceof ControllerRequestError &&
      error.status === 404 &&
      this.#p.clock.now() - (hourStartMs(hour) + HOUR_MS) > BACKUP_WEEKS * WEEK_MS
    );
  }

  /**
   * Acknowledges stored hours the controllers have not been told about, oldest first, stopping at a
   * controller's first failure (it is likely down; the rest wait for the next round).
   */
  async acknowledgePending(limit = 100): Promise<{ acknowledged: number; failed: number }> {
    const since = new Date(this.#p.clock.now() - BACKUP_WEEKS * WEEK_MS);
    const { rows } = await this.#p.db.query<{ controller_id: string; hour: Date }>(
      `SELECT controller_id, hour FROM usage_hours WHERE NOT acknowledged AND hour >= $1
       ORDER BY controller_id, hour LIMIT $2`,
      [since, limit],
    );
    const byController = new Map<string, string[]>();
    for (const r of rows) {
      if (!this.#p.clients.has(r.controller_id)) continue;
      const hours = byController.get(r.controller_id) ?? [];
      hours.push(hourName(r.hour.getTime()));
      byController.set(r.controller_id, hours);
    }
    let [acknowledged, failed] = [0, 0];
    await Promise.all(
      [...byController].map(async ([controllerId, hours]) => {
        for (const hour of hours) {
          if (this.inFlight.has(requestKey(controllerId, hour))) continue;
          if (!(await this.#acknowledge(this.client(controllerId), hour))) {
            failed++;
            return;
          }
          acknowledged++;
        }
      }),
    );
    return { acknowledged, failed };
  }

  async #acknowledge(client: ControllerClient, hour: string): Promise<boolean> {
    try {
      await client.acknowledge(hour);
    } catch (error) {
      this.#p.logger.warn(
        { controllerId: client.controllerId, hour, err: error },
        "acknowledging a stored hour failed; it will be acknowledged again later",
      );
      return false;
    }
    await this.#p.db.query(
      "UPDATE usage_hours SET acknowledged = true WHERE controller_id = $1 AND hour = $2::timestamptz",
      [client.controllerId, hour],
    );
    return true;
  }
}
