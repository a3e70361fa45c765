import { z } from "zod";

import { CONTROLLER_DEFAULT_ROUTING } from "../../utility/supply/supplyPriorities.js";
import type { ControllerLocation, SupplyStatus } from "../../utility/supply/supplyStatus.js";
import { overrideSupplyStatus } from "../../utility/supply/supplyOverride.js";
import { effectiveStatus, readSupplyState } from "../../utility/supply/supplyStatusStore.js";
import { readBattery } from "../../utility/supply/utilityBattery.js";
import { ApiError } from "../apiError.js";
import { cursorCodec, decimalKey, pageOf } from "../cursor.js";
import { clockOf, defineRoute, type Route } from "../route.js";
import { DEFAULT_LIMIT, limitParam } from "../schemas.js";
import { iso } from "../sqlConditions.js";
import { supplyOverrideBodySchema } from "../supplySchemas.js";

const isoOrNull = (d: Date | null) => (d === null ? null : iso(d));

const supplyStatusRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/supply",
  tag: "supply",
  operator: true,
  summary: "The regional supply status the utility acts on, the feed's health and any override",
  description:
    "A failing feed keeps its last answer as the status (never NORMAL by default) and is shown as failing.",
  response: "SupplyStatus",
  async handle({ deps }) {
    const s = await readSupplyState(deps.db);
    return {
      status: effectiveStatus(s),
      decidedBy: s.overrideStatus !== null ? "override" : s.feedStatus !== null ? "feed" : "unknown",
      feed: {
        source: s.feedSource,
        status: s.feedStatus,
        answeredAt: isoOrNull(s.feedAnsweredAt),
        failing: s.feedFailures > 0,
        consecutiveFailures: s.feedFailures,
        lastError: s.feedError,
        lastErrorAt: isoOrNull(s.feedErrorAt),
      },
      override:
        s.overrideStatus === null
          ? null
          : { status: s.overrideStatus, reason: s.overrideReason ?? "", at: iso(s.overrideAt!) },
      lastRound:
        s.lastRoundAt === null
          ? null
          : {
              at: iso(s.lastRoundAt),
              peak: s.lastRoundPeak ?? false,
              peakHours: {
                startHour: s.peakStartHour!,
                endHour: s.peakEndHour!,
                timeZone: s.peakTimeZone ?? "UTC",
                source: s.peakSource ?? "",
              },
            },
    };
  },
});

type RoutingRow = {
  controller_id: string;
  location: ControllerLocation;
  fraction: string | null;
  demand_reduction: boolean | null;
  status: SupplyStatus | null;
  decided_at: Date | null;
};

const supplyRoutingRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/supply/routing",
  tag: "supply",
  operator: true,
  summary: "The share of its grid feed and the demand reduction last sent to each controller",
  response: "SupplyRouting",
  async handle({ deps }) {
    const state = await readSupplyState(deps.db);
    const { rows } = await deps.db.query<RoutingRow>(
      `SELECT c.controller_id, c.location, r.fraction, r.demand_reduction, r.status, r.decided_at
       FROM microgrid_controllers c LEFT JOIN supply_routing r USING (controller_id)
       ORDER BY c.controller_id`,
    );
    return {
      status: effectiveStatus(state),
      controllers: rows.map((r) => ({
        controllerId: r.controller_id,
        location: r.location,
        fraction: r.fraction === null ? CONTROLLER_DEFAULT_ROUTING.fraction : Number(r.fraction),
        demandReduction: r.demand_reduction ?? CONTROLLER_DEFAULT_ROUTING.demandReduction,
        decidedUnder: r.status,
        decidedAt: isoOrNull(r.decided_at),
      })),
    };
  },
});

const supplyBatteryRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/supply/battery",
  tag: "supply",
  operator: true,
  summary: "The utility's battery: capacity, charge and what it could not cover",
  response: "SupplyBattery",
  errors: [404],
  async handle({ deps }) {
    const b = await readBattery(deps.db);
    if (b === undefined)
      throw new ApiError(404, "the utility's battery is not recorded yet: supply has not run");
    return {
      capacityWh: b.capacityWh.toString(),
      chargeWh: b.chargeWh.toString(),
      criticalWh: b.criticalWh.toString(),
      criticallyLow: b.chargeWh < b.criticalWh,
      accountingFrom: iso(b.accountingFrom),
      unservedWh: b.unservedWh.toString(),
      spilledWh: b.spilledWh.toString(),
      updatedAt: iso(b.updatedAt),
    };
  },
});

type PurchaseRow = {
  id: bigint;
  at: Date;
  peak: boolean;
  reason: string;
  requested_wh: bigint;
  granted_wh: bigint;
  supply_status: SupplyStatus | null;
  charge_before_wh: bigint;
  charge_after_wh: bigint;
  error: string | null;
};

const purchasesCursor = cursorCodec("supply-purchases", z.tuple([decimalKey]));

const supplyPurchasesRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/supply/purchases",
  tag: "supply",
  operator: true,
  summary: "Purchase_power's history, newest first: every purchase asked of the regional grid",
  query: z.strictObject({ limit: limitParam, cursor: purchasesCursor.param }),
  response: "SupplyPurchasePage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const { rows } = await deps.db.query<PurchaseRow>(
      `SELECT * FROM supply_purchases WHERE ($1::bigint IS NULL OR id < $1::bigint) ORDER BY id DESC LIMIT $2`,
      [query.cursor?.[0] ?? null, limit + 1],
    );
    const page = pageOf(rows, limit, purchasesCursor, (r) => [r.id.toString()] as [string]);
    return {
      items: page.rows.map((r) => ({
        id: r.id.toString(),
        at: iso(r.at),
        peak: r.peak,
        reason: r.reason,
        requestedWh: r.requested_wh.toString(),
        grantedWh: r.granted_wh.toString(),
        supplyStatus: r.supply_status,
        chargeBeforeWh: r.charge_before_wh.toString(),
        chargeAfterWh: r.charge_after_wh.toString(),
        error: r.error,
      })),
      nextCursor: page.nextCursor,
    };
  },
});

type HistoryRow = {
  id: bigint;
  at: Date;
  source: string;
  reported_status: SupplyStatus | null;
  previous_status: SupplyStatus | null;
  effective_status: SupplyStatus | null;
  note: string | null;
};

const historyCursor = cursorCodec("supply-history", z.tuple([decimalKey]));

const supplyHistoryRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/supply/history",
  tag: "supply",
  operator: true,
  summary: "Supply status history, newest first: feed changes, feed outages, overrides",
  query: z.strictObject({ limit: limitParam, cursor: historyCursor.param }),
  response: "SupplyHistoryPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const { rows } = await deps.db.query<HistoryRow>(
      `SELECT * FROM supply_status_history WHERE ($1::bigint IS NULL OR id < $1::bigint) ORDER BY id DESC LIMIT $2`,
      [query.cursor?.[0] ?? null, limit + 1],
    );
    const page = pageOf(rows, limit, historyCursor, (r) => [r.id.toString()] as [string]);
    return {
      items: page.rows.map((r) => ({
        id: r.id.toString(),
        at: iso(r.at),
        source: r.source,
        reportedStatus: r.reported_status,
        previousStatus: r.previous_status,
        effectiveStatus: r.effective_status,
        note: r.note,
      })),
      nextCursor: page.nextCursor,
    };
  },
});

const supplyOverrideRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/supply/override",
  tag: "supply",
  operator: true,
  summary: "Declare a supply status for a drill (or hand control back to the feed with null)",
  description:
    "Recorded as an override in the history; the controllers' demand reduction and grid shares are queued at once.",
  body: supplyOverrideBodySchema,
  maxBodyBytes: 4096,
  response: "SupplyOverride",
  errors: [413, 415],
  async handle({ body, deps }) {
    const atMs = clockOf(deps).now();
    const result = await overrideSupplyStatus(deps.db, { status: body.status, reason: body.reason, atMs });
    deps.logger.warn(
      { override: body.status, reason: body.reason, from: result.previous, to: result.status },
      body.status === null
        ? "operator cleared the supply status override"
        : "operator overrode the supply status",
    );
    return {
      previous: result.previous,
      status: result.status,
      commands: result.commands.map((c) => ({
        id: c.id.toString(),
        controllerId: c.controllerId,
        command: c.command,
        params: c.params,
      })),
    };
  },
});

/** The supply endpoints (issue 7): operator views of seed 000 §2.2.3 and the drill override. */
export const supplyRoutes: readonly Route[] = [
  supplyStatusRoute,
  supplyRoutingRoute,
  supplyBatteryRoute,
  supplyPurchasesRoute,
  supplyHistoryRoute,
  supplyOverrideRoute,
];
