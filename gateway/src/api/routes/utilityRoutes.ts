import type { ServerResponse } from "node:http";

import { z } from "zod";

import { hourName, hourSchema } from "../../microgrid/controllerApi.js";
import { enqueueControllerCommand } from "../../utility/commands/commandOutbox.js";
import { exportAllData } from "../../utility/export/exportAllData.js";
import { queueRecoveryWindow } from "../../utility/polling/recoverData.js";
import { exportStatistics } from "../../utility/statistics/exportStatistics.js";
import { CommandRejectedError, UnknownControllerError } from "../../utility/utilityErrors.js";
import { ApiError } from "../apiError.js";
import { cursorCodec, decimalKey, pageOf } from "../cursor.js";
import { clockOf, defineRoute, type ApiDependencies, type Route } from "../route.js";
import { DEFAULT_LIMIT, limitParam } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";
import {
  commandBodySchema,
  commandStatus,
  controllerIdParam,
  recoveryBodySchema,
} from "../utilitySchemas.js";

/**
 * The utility's operator endpoints (seed 000 §2.2.2). They work from the CIDB alone: the loops that
 * talk to controllers (utility/utilityService.ts) pick up what these queue — recovery hours in the
 * FRQ, commands in the outbox — so the API needs no controller tokens and may run in another process.
 */

const nowOf = (deps: ApiDependencies) => clockOf(deps).now();

/** Operator errors from the utility modules, as API refusals with the reason. */
function refusal(error: unknown): never {
  if (error instanceof UnknownControllerError) throw new ApiError(404, error.message);
  if (error instanceof CommandRejectedError)
    throw new ApiError(
      400,
      error.message,
      error.issues.map((i) => ({ path: `body.command.${i.path}`, message: i.message })),
    );
  throw error;
}

export const utilityControllersRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/controllers",
  tag: "utility",
  operator: true,
  summary: "The microgrid controllers in the CIDB, with what the utility holds and owes of each",
  response: "UtilityControllers",
  async handle({ deps }) {
    const { rows } = await deps.db.query<{
      controller_id: string;
      location: "residential" | "apartment" | "emergency";
      url: string;
      accounts: number;
      meters: number;
      hours_held: number;
      last_hour: Date | null;
      unacknowledged: number;
      failed: number;
      pending: number;
    }>(
      `SELECT c.controller_id, c.location, c.url,
              (SELECT count(*)::int FROM customer_accounts a WHERE a.controller_id = c.controller_id) AS accounts,
              (SELECT count(*)::int FROM smart_meters m WHERE m.controller_id = c.controller_id) AS meters,
              (SELECT count(*)::int FROM usage_hours u WHERE u.controller_id = c.controller_id) AS hours_held,
              (SELECT max(hour) FROM usage_hours u WHERE u.controller_id = c.controller_id) AS last_hour,
              (SELECT count(*)::int FROM usage_hours u
                WHERE u.controller_id = c.controller_id AND NOT u.acknowledged) AS unacknowledged,
              (SELECT count(*)::int FROM failed_requests f WHERE f.controller_id = c.controller_id) AS failed,
              (SELECT count(*)::int FROM controller_commands k
                WHERE k.controller_id = c.controller_id AND k.status = 'pending') AS pending
       FROM microgrid_controllers c ORDER BY c.controller_id`,
    );
    return {
      items: rows.map((r) => ({
        controllerId: r.controller_id,
        location: r.location,
        url: r.url,
        accounts: r.accounts,
        meters: r.meters,
        hoursHeld: r.hours_held,
        lastHour: r.last_hour === null ? null : hourName(r.last_hour.getTime()),
        unacknowledgedHours: r.unacknowledged,
        failedRequests: r.failed,
        pendingCommands: r.pending,
      })),
    };
  },
});

const hoursCursor = cursorCodec("usage-hours", z.tuple([hourSchema]));

export const usageHoursRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/controllers/{controllerId}/hours",
  tag: "utility",
  operator: true,
  summary: "The usage hours held from one controller, newest first",
  params: z.strictObject({ controllerId: controllerIdParam }),
  query: z.strictObject({
    from: hourSchema.optional().describe("first hour (inclusive)"),
    to: hourSchema.optional().describe("last hour (inclusive)"),
    limit: limitParam,
    cursor: hoursCursor.param,
  }),
  response: "UsageHourPage",
  errors: [404],
  async handle({ params, query, deps }) {
    const known = await deps.db.query("SELECT 1 FROM microgrid_controllers WHERE controller_id = $1", [
      params.controllerId,
    ]);
    if (known.rows.length === 0) throw new ApiError(404, `no controller ${params.controllerId}`);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    c.and(`controller_id = ${c.param(params.controllerId)}`);
    if (query.from !== undefined) c.and(`hour >= ${c.param(query.from)}::timestamptz`);
    if (query.to !== undefined) c.and(`hour <= ${c.param(query.to)}::timestamptz`);
    if (query.cursor !== undefined) c.and(`hour < ${c.param(query.cursor[0])}::timestamptz`);
    const { rows } = await deps.db.query<{
      hour: Date;
      records: number;
      rejected: number;
      acknowledged: boolean;
      received_at: Date;
    }>(
      `SELECT hour, records, rejected, acknowledged, received_at FROM usage_hours ${c.where()}
       ORDER BY hour DESC LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const items = rows.map((r) => ({
      hour: hourName(r.hour.getTime()),
      records: r.records,
      rejected: r.rejected,
      acknowledged: r.acknowledged,
      receivedAt: iso(r.received_at),
    }));
    const p = pageOf(items, limit, hoursCursor, (r) => [r.hour] as [string]);
    return { items: p.rows, nextCursor: p.nextCursor };
  },
});

const failedCursor = cursorCodec("failed-requests", z.tuple([hourSchema, controllerIdParam]));

export const failedRequestsRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/failed-requests",
  tag: "utility",
  operator: true,
  summary: "The failed request queue (FRQ): hours still to get, oldest first, with why and how often tried",
  query: z.strictObject({
    controllerId: controllerIdParam.optional(),
    limit: limitParam,
    cursor: failedCursor.param,
  }),
  response: "FailedRequestPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.controllerId !== undefined) c.and(`controller_id = ${c.param(query.controllerId)}`);
    if (query.cursor !== undefined)
      c.and(
        `(hour, controller_id) > (${c.param(query.cursor[0])}::timestamptz, ${c.param(query.cursor[1])}::text)`,
      );
    const { rows } = await deps.db.query<{
      id: bigint;
      controller_id: string;
      hour: Date;
      reason: "failed" | "catch-up" | "recovery";
      attempts: number;
      last_error: string | null;
      first_failed_at: Date;
      last_failed_at: Date;
    }>(
      `SELECT id, controller_id, hour, reason, attempts, last_error, first_failed_at, last_failed_at
       FROM failed_requests ${c.where()} ORDER BY hour, controller_id LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const items = rows.map((r) => ({
      id: r.id.toString(),
      controllerId: r.controller_id,
      hour: hourName(r.hour.getTime()),
      reason: r.reason,
      attempts: r.attempts,
      lastError: r.last_error,
      firstFailedAt: iso(r.first_failed_at),
      lastFailedAt: iso(r.last_failed_at),
    }));
    const p = pageOf(items, limit, failedCursor, (r) => [r.hour, r.controllerId] as [string, string]);
    return { items: p.rows, nextCursor: p.nextCursor };
  },
});

const rejectedCursor = cursorCodec("rejected-records", z.tuple([decimalKey]));

export const rejectedRecordsRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/rejected-records",
  tag: "utility",
  operator: true,
  summary: "Readings controllers delivered that the utility refused, with the reason, oldest first",
  query: z.strictObject({
    controllerId: controllerIdParam.optional(),
    hour: hourSchema.optional(),
    limit: limitParam,
    cursor: rejectedCursor.param,
  }),
  response: "RejectedRecordPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.controllerId !== undefined) c.and(`controller_id = ${c.param(query.controllerId)}`);
    if (query.hour !== undefined) c.and(`hour = ${c.param(query.hour)}::timestamptz`);
    if (query.cursor !== undefined) c.and(`id > ${c.param(query.cursor[0])}::bigint`);
    const { rows } = await deps.db.query<{
      id: bigint;
      controller_id: string;
      hour: Date;
      record: unknown;
      reason: string;
      received_at: Date;
    }>(
      `SELECT id, controller_id, hour, record, reason, received_at FROM rejected_records ${c.where()}
       ORDER BY id LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const items = rows.map((r) => ({
      id: r.id.toString(),
      controllerId: r.controller_id,
      hour: hourName(r.hour.getTime()),
      record: r.record,
      reason: r.reason,
      receivedAt: iso(r.received_at),
    }));
    const p = pageOf(items, limit, rejectedCursor, (r) => [r.id] as [string]);
    return { items: p.rows, nextCursor: p.nextCursor };
  },
});

export const utilityStatisticsRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/statistics",
  tag: "utility",
  operator: true,
  summary: "Export_statistics: average monthly generation, consumption and contribution per controller",
  description:
    "Averages over the last 1, 3, 12 and 60 whole months before the current one, each dividing by the months " +
    "that have statistics (monthsCovered); the running month is reported apart, through its last whole day.",
  response: "UtilityStatistics",
  handle: ({ deps }) => exportStatistics(deps.db, { now: nowOf(deps) }),
});

export const exportAllDataRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/export",
  tag: "utility",
  operator: true,
  summary: "Export_all_data: the whole CIDB as NDJSON, streamed",
  description:
    "Content type application/x-ndjson: a header line, then per table a `table` line and one `row` line per row, " +
    "and a final `end` line with the row counts (missing if the stream was cut). BIGINT and NUMERIC values are " +
    "decimal strings, signatures 0x hex, times UTC ISO 8601.",
  response: "CidbExportLine",
  responseType: "application/x-ndjson",
  async respond(_req, res, deps) {
    res.writeHead(200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="cidb-${new Date(nowOf(deps)).toISOString().slice(0, 10)}.ndjson"`,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    });
    try {
      const rows = await exportAllData(deps.db, (chunk) => writeOrClose(res, chunk), { now: nowOf(deps) });
      res.end();
      deps.logger.info({ rows }, "CIDB exported");
    } catch (error) {
      if (error instanceof ClientGone) deps.logger.info("CIDB export stopped: the client went away");
      else deps.logger.error({ err: error }, "CIDB export failed mid-stream; the response is cut short");
      res.destroy();
    }
  },
});

class ClientGone extends Error {}

/** Writes `chunk`, waiting for the socket to drain; rejects once the client has gone. */
function writeOrClose(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new ClientGone());
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (gone: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      if (gone) reject(new ClientGone());
      else resolve();
    };
    const onDrain = () => done(false);
    const onClose = () => done(true);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

export const recoveryRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/utility/recoveries",
  tag: "utility",
  operator: true,
  summary:
    "Recover_data: queue the hours of the last weeks the CIDB lacks (or all) for re-request from backups",
  description:
    "Queues, with reason `recovery`, every hour of the window without a usage_hours row (every hour with all: " +
    "true) for one controller or all; the utility's recovery drain re-requests them from the controllers' ten-week " +
    "backups. Idempotent: an hour already queued is not queued twice, and re-stored readings are not duplicated.",
  body: recoveryBodySchema,
  maxBodyBytes: 1024,
  response: "RecoveryQueued",
  errors: [404, 413, 415],
  async handle({ body, deps }) {
    const { rows } = await deps.db.query<{ controller_id: string }>(
      "SELECT controller_id FROM microgrid_controllers ORDER BY controller_id",
    );
    const queued = await queueRecoveryWindow(deps.db, {
      controllerIds: rows.map((r) => r.controller_id),
      controllerId: body.controllerId,
      all: body.all,
      weeks: body.weeks,
      now: nowOf(deps),
    }).catch(refusal);
    deps.logger.info({ ...body, queued }, "operator queued a data recovery");
    return {
      weeks: body.weeks,
      all: body.all,
      controllers: queued.map((q) => ({ controllerId: q.controllerId, queued: q.queued })),
    };
  },
});

export const sendCommandRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/utility/commands",
  tag: "utility",
  operator: true,
  summary: "Queue a command (billing rates, demand reduction, data interval, grid supply) for controllers",
  description:
    "One outbox row per controller, delivered in order and retried until the controller takes or refuses it.",
  body: commandBodySchema,
  maxBodyBytes: 65_536,
  response: "CommandsQueued",
  errors: [404, 413, 415],
  async handle({ body, deps }) {
    const items = await enqueueControllerCommand(deps.db, {
      controllerIds: body.controllerIds,
      command: body.command,
      now: nowOf(deps),
    }).catch(refusal);
    deps.logger.info(
      { command: body.command.command, controllers: items.length },
      "operator queued a controller command",
    );
    return { command: body.command.command, items };
  },
});

const commandsCursor = cursorCodec("controller-commands", z.tuple([decimalKey]));

export const commandsRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/utility/commands",
  tag: "utility",
  operator: true,
  summary: "The command outbox, newest first: what each controller was sent, and how it went",
  query: z.strictObject({
    controllerId: controllerIdParam.optional(),
    status: commandStatus.optional(),
    limit: limitParam,
    cursor: commandsCursor.param,
  }),
  response: "ControllerCommandPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.controllerId !== undefined) c.and(`controller_id = ${c.param(query.controllerId)}`);
    if (query.status !== undefined) c.and(`status = ${c.param(query.status)}`);
    if (query.cursor !== undefined) c.and(`id < ${c.param(query.cursor[0])}::bigint`);
    const { rows } = await deps.db.query<{
      id: bigint;
      controller_id: string;
      command: string;
      params: unknown;
      status: "pending" | "delivered" | "refused";
      attempts: number;
      last_error: string | null;
      created_at: Date;
      delivered_at: Date | null;
    }>(
      `SELECT id, controller_id, command, params, status, attempts, last_error, created_at, delivered_at
       FROM controller_commands ${c.where()} ORDER BY id DESC LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const items = rows.map((r) => ({
      id: r.id.toString(),
      controllerId: r.controller_id,
      command: r.command,
      params: r.params,
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: iso(r.created_at),
      deliveredAt: r.delivered_at === null ? null : iso(r.delivered_at),
    }));
    const p = pageOf(items, limit, commandsCursor, (r) => [r.id] as [string]);
    return { items: p.rows, nextCursor: p.nextCursor };
  },
});

/** The utility endpoints (issue 7). */
export const utilityRoutes: readonly Route[] = [
  utilityControllersRoute,
  usageHoursRoute,
  failedRequestsRoute,
  rejectedRecordsRoute,
  utilityStatisticsRoute,
  exportAllDataRoute,
  recoveryRoute,
  sendCommandRoute,
  commandsRoute,
];
