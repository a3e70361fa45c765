import { z } from "zod";

import {
  batteryReportTypes,
  gatewayDomain,
  mutableTypes,
  type SignedBatteryReport,
  signedBatteryReportSchema,
} from "@gridmesh/contracts";
import { typedDataSigner } from "@gridmesh/contracts/ethers";

import { ApiError } from "../apiError.js";
import { cursorCodec, decimalKey, pageOf } from "../cursor.js";
import { clockOf, defineRoute } from "../route.js";
import { addressParam, DEFAULT_LIMIT, limitParam } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";

/** How far ahead of the gateway's clock a report may be dated: clock skew, not a way to block later reports. */
export const MAX_REPORT_AHEAD_SECONDS = 600;

/** Reports are small: a home topology of at most 32 batteries is about 16 KB of JSON. */
const MAX_REPORT_BODY_BYTES = 65_536;

const types = mutableTypes(batteryReportTypes);

type ReportRow = {
  meter: string;
  taken_at: string;
  batteries: unknown;
  signature: string;
  received_at: Date;
};

const REPORT_COLUMNS = "meter, taken_at::text, batteries, signature, received_at";

const reportJson = (r: ReportRow) => ({
  meter: r.meter,
  takenAt: Number(r.taken_at),
  batteries: r.batteries,
  signature: r.signature,
  receivedAt: iso(r.received_at),
});

const unixSecondsParam = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,11})$/, "must be Unix seconds (a non-negative integer)")
  .transform(Number);

export const postBatteryReportRoute = defineRoute({
  method: "POST",
  path: "/v1/battery-reports",
  tag: "batteries",
  summary: "Submit a meter's signed report of its home batteries (from meter agents)",
  description:
    "The meter's key signs the report (EIP-712, gateway domain). It is stored when the signer is the meter, the " +
    "meter is enrolled or active, and the report is newer than the meter's last one; the same report again is a " +
    "harmless duplicate, an older or equally dated different one is refused (409).",
  body: signedBatteryReportSchema,
  maxBodyBytes: MAX_REPORT_BODY_BYTES,
  response: "BatteryReportReceipt",
  errors: [403, 409, 413, 415, 503],
  async handle({ body, deps }) {
    const chainId = deps.deployment?.chainId;
    if (chainId === undefined) {
      throw new ApiError(503, "this process serves no chain deployment, so it cannot check meter signatures");
    }
    const { report, signature } = body;
    const meter = report.meter.toLowerCase();
    if (recoverSigner(body, chainId) !== meter) {
      throw new ApiError(403, `the report is not signed by meter ${report.meter}`);
    }
    const now = Math.floor(clockOf(deps).now() / 1000);
    if (report.takenAt > now + MAX_REPORT_AHEAD_SECONDS) {
      throw new ApiError(
        409,
        `report.takenAt ${report.takenAt} is more than ${MAX_REPORT_AHEAD_SECONDS} s ahead of the gateway's clock (${now})`,
      );
    }
    return deps.db.transaction(async (tx) => {
      const device = await tx.query<{ status: string }>("SELECT status FROM devices WHERE meter = $1", [
        meter,
      ]);
      const status = device.rows[0]?.status;
      if (status === undefined) throw new ApiError(403, `meter ${meter} is not in the registry`);
      if (status === "deactivated") throw new ApiError(403, `meter ${meter} is deactivated`);
      // One meter's reports are compared and written one at a time, across gateway instances too.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`battery ${meter}`]);
      const last = await tx.query<{ taken_at: string; signature: string }>(
        "SELECT taken_at::text, signature FROM battery_reports WHERE meter = $1 ORDER BY taken_at DESC LIMIT 1",
        [meter],
      );
      const previous = last.rows[0];
      if (previous !== undefined && Number(previous.taken_at) >= report.takenAt) {
        if (Number(previous.taken_at) === report.takenAt && previous.signature === signature.toLowerCase()) {
          return { meter, takenAt: report.takenAt, status: "duplicate" as const };
        }
        throw new ApiError(
          409,
          `meter ${meter} already reported at ${previous.taken_at}; a report must be newer (got ${report.takenAt})`,
        );
      }
      await tx.query(
        "INSERT INTO battery_reports (meter, taken_at, batteries, signature) VALUES ($1, $2, $3, $4)",
        [meter, report.takenAt, JSON.stringify(report.batteries), signature.toLowerCase()],
      );
      return { meter, takenAt: report.takenAt, status: "stored" as const };
    });
  },
});

/** The report's signer, lower-case, or undefined when the signature does not decode. */
function recoverSigner({ report, signature }: SignedBatteryReport, chainId: bigint): string | undefined {
  return typedDataSigner(gatewayDomain(chainId), types, report, signature)?.toLowerCase();
}

export const latestBatteryReportRoute = defineRoute({
  method: "GET",
  path: "/v1/devices/{meter}/battery",
  tag: "batteries",
  summary: "A meter's latest battery report: every battery and partition of its home",
  params: z.strictObject({ meter: addressParam }),
  response: "LatestBatteryReport",
  async handle({ params, deps }) {
    const { rows } = await deps.db.query<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM battery_reports WHERE meter = $1 ORDER BY taken_at DESC LIMIT 1`,
      [params.meter],
    );
    return { meter: params.meter, latest: rows[0] === undefined ? null : reportJson(rows[0]) };
  },
});

const reportsCursor = cursorCodec("battery-reports", z.tuple([decimalKey]));

export const batteryReportsRoute = defineRoute({
  method: "GET",
  path: "/v1/devices/{meter}/battery-reports",
  tag: "batteries",
  summary: "A meter's battery reports over time, oldest first",
  description: "from and to (Unix seconds, inclusive) bound takenAt.",
  params: z.strictObject({ meter: addressParam }),
  query: z
    .strictObject({
      from: unixSecondsParam.optional(),
      to: unixSecondsParam.optional(),
      limit: limitParam,
      cursor: reportsCursor.param,
    })
    .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
      path: ["to"],
      message: "must not be before from",
    }),
  response: "BatteryReportPage",
  async handle({ params, query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    c.and(`meter = ${c.param(params.meter)}`);
    if (query.from !== undefined) c.and(`taken_at >= ${c.param(query.from)}`);
    if (query.to !== undefined) c.and(`taken_at <= ${c.param(query.to)}`);
    if (query.cursor !== undefined) c.and(`taken_at > ${c.param(query.cursor[0])}::bigint`);
    const { rows } = await deps.db.query<ReportRow>(
      `SELECT ${REPORT_COLUMNS} FROM battery_reports ${c.where()} ORDER BY taken_at LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, reportsCursor, (r) => [r.taken_at] as [string]);
    return { items: page.rows.map(reportJson), nextCursor: page.nextCursor };
  },
});

export const batteryRoutes = [postBatteryReportRoute, latestBatteryReportRoute, batteryReportsRoute];
