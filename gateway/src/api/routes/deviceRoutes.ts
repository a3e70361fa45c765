import { z } from "zod";

import { ApiError } from "../apiError.js";
import { addressKey, cursorCodec, pageOf } from "../cursor.js";
import { defineRoute } from "../route.js";
import { addressParam, DEFAULT_LIMIT, deviceStatus, limitParam } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";

type DeviceRow = { meter: string; owner: string; device_id: string; status: string; updated_at: Date };

const DEVICE_COLUMNS = "meter, owner, device_id, status, updated_at";

const deviceJson = (r: DeviceRow) => ({
  meter: r.meter,
  owner: r.owner,
  deviceId: r.device_id,
  status: r.status,
  updatedAt: iso(r.updated_at),
});

const devicesCursor = cursorCodec("devices", z.tuple([addressKey]));

export const devicesRoute = defineRoute({
  method: "GET",
  path: "/v1/devices",
  tag: "devices",
  summary: "Meters and their identity status, by meter address",
  query: z.strictObject({
    owner: addressParam.optional(),
    status: deviceStatus.optional(),
    limit: limitParam,
    cursor: devicesCursor.param,
  }),
  response: "DevicePage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.owner !== undefined) c.and(`owner = ${c.param(query.owner)}`);
    if (query.status !== undefined) c.and(`status = ${c.param(query.status)}`);
    if (query.cursor !== undefined) c.and(`meter > ${c.param(query.cursor[0])}::text`);
    const { rows } = await deps.db.query<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM devices ${c.where()} ORDER BY meter LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, devicesCursor, (r) => [r.meter] as [string]);
    return { items: page.rows.map(deviceJson), nextCursor: page.nextCursor };
  },
});

export const deviceRoute = defineRoute({
  method: "GET",
  path: "/v1/devices/{meter}",
  tag: "devices",
  summary: "One meter and its identity status",
  params: z.strictObject({ meter: addressParam }),
  response: "Device",
  errors: [404],
  async handle({ params, deps }) {
    const { rows } = await deps.db.query<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM devices WHERE meter = $1`,
      [params.meter],
    );
    if (rows[0] === undefined) throw new ApiError(404, `no device with meter ${params.meter}`);
    return deviceJson(rows[0]);
  },
});
