import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { createLogger } from "../../common/logger.js";
import { HOUR_MS, hourName } from "../../microgrid/controllerApi.js";
import { createDatabase, migrate, type Database } from "../../store/index.js";
import { INTERVAL_SECONDS, TestMeter } from "../../utility/testing/signedReadings.js";
import { utilityFixture, type UtilityFixture } from "../../utility/testing/utilityFixture.js";
import { OPERATOR_TOKEN, startApiServer, type ApiServer } from "../testing/apiTestContext.js";
import { cidbExportLineSchema, utilityComponentSchemas } from "../utilitySchemas.js";

const logger = createLogger({ level: "silent" });
const DAY = Date.parse("2026-03-10T00:00:00Z");
const EPOCH_INTERVAL = DAY / 1000 / INTERVAL_SECONDS;
const hourAt = (h: number) => DAY + h * HOUR_MS;

describe("utility API", () => {
  let db: Database;
  let fx: UtilityFixture;
  let api: ApiServer;
  const m1 = new TestMeter(1);
  const m3 = new TestMeter(3);

  before(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
    fx = await utilityFixture({
      db,
      startMs: hourAt(9),
      controllers: [
        { id: "res-1", meters: [m1] },
        { id: "apt-1", location: "apartment", meters: [m3] },
      ],
    });
    // res-1 delivers hours 09:00–11:00, one refused reading among them; apt-1 is down throughout.
    await fx.controller("apt-1").down();
    for (const h of [9, 10, 11]) {
      const readings: unknown[] = await m1.readingsReceivedIn(hourAt(h), EPOCH_INTERVAL);
      if (h === 10) readings.push({ reading: "garbage", signature: "0x00" });
      fx.controller("res-1").hours.set(hourName(hourAt(h)), { readings, backup: false });
      fx.clock.set(hourAt(h + 1) + 10_000);
      await fx.service.queryData();
    }
    api = await startApiServer(db, { operator: true, clock: fx.clock });
  });
  after(async () => {
    await api.close();
    await fx.close();
    await db.close();
  });

  /** `token` null sends no Authorization header. */
  const call = (path: string, init: RequestInit = {}, token: string | null = OPERATOR_TOKEN) =>
    api.call(path, {
      ...init,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
    });
  const post = (path: string, body: unknown) => call(path, { method: "POST", body: JSON.stringify(body) });

  it("is for operators only", async () => {
    for (const path of [
      "/v1/operator/utility/controllers",
      "/v1/operator/utility/statistics",
      "/v1/operator/utility/export",
    ]) {
      assert.equal((await call(path, {}, null)).status, 401, path);
      assert.equal((await call(path, {}, "wrong-token")).status, 401, path);
    }
  });

  it("lists the controllers with what the utility holds and owes of each", async () => {
    const res = await call("/v1/operator/utility/controllers");
    assert.equal(res.status, 200);
    const body = utilityComponentSchemas.UtilityControllers.parse(res.body);
    assert.deepEqual(
      body.items.map((c) => [
        c.controllerId,
        c.location,
        c.meters,
        c.hoursHeld,
        c.lastHour,
        c.failedRequests,
      ]),
      [
        ["apt-1", "apartment", 1, 0, null, 3],
        ["res-1", "residential", 1, 3, "2026-03-10T11:00:00Z", 0],
      ],
    );
  });

  it("pages a controller's hours newest first, and 404s an unknown controller", async () => {
    const first = await call("/v1/operator/utility/controllers/res-1/hours?limit=2");
    const page1 = utilityComponentSchemas.UsageHourPage.parse(first.body);
    assert.deepEqual(
      page1.items.map((h) => [h.hour, h.records, h.rejected, h.acknowledged]),
      [
        ["2026-03-10T11:00:00Z", 4, 0, true],
        ["2026-03-10T10:00:00Z", 4, 1, true],
      ],
    );
    const second = await call(
      `/v1/operator/utility/controllers/res-1/hours?limit=2&cursor=${page1.nextCursor}`,
    );
    const page2 = utilityComponentSchemas.UsageHourPage.parse(second.body);
    assert.deepEqual(
      page2.items.map((h) => h.hour),
      ["2026-03-10T09:00:00Z"],
    );
    assert.equal(page2.nextCursor, null);
    const ranged = utilityComponentSchemas.UsageHourPage.parse(
      (
        await call(
          "/v1/operator/utility/controllers/res-1/hours?from=2026-03-10T10:00:00Z&to=2026-03-10T10:00:00Z",
        )
      ).body,
    );
    assert.equal(ranged.items.length, 1);
    assert.equal((await call("/v1/operator/utility/controllers/nobody/hours")).status, 404);
    const bad = await call("/v1/operator/utility/controllers/res-1/hours?from=2026-03-10T10:30:00Z");
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: string }).error, /query\.from: must be a whole UTC hour/);
  });

  it("shows the FRQ and the refused records with their reasons", async () => {
    const frq = utilityComponentSchemas.FailedRequestPage.parse(
      (await call("/v1/operator/utility/failed-requests")).body,
    );
    assert.deepEqual(
      frq.items.map((f) => [f.controllerId, f.hour, f.reason, f.attempts]),
      [9, 10, 11].map((h) => ["apt-1", hourName(hourAt(h)), "failed", 1]),
    );
    assert.match(frq.items[0]!.lastError!, /^controller apt-1: GET .* is unreachable/);
    const rejected = utilityComponentSchemas.RejectedRecordPage.parse(
      (await call("/v1/operator/utility/rejected-records?controllerId=res-1")).body,
    );
    assert.deepEqual(
      rejected.items.map((r) => [r.hour, r.record]),
      [["2026-03-10T10:00:00Z", { reading: "garbage", signature: "0x00" }]],
    );
    assert.match(rejected.items[0]!.reason, /^malformed reading: reading: /);
  });

  it("exports the statistics and streams the whole CIDB as NDJSON", async () => {
    const stats = await call("/v1/operator/utility/statistics");
    assert.equal(stats.status, 200);
    const body = utilityComponentSchemas.UtilityStatistics.parse(stats.body);
    assert.equal(body.currentMonth, "2026-03");
    assert.equal(body.averages.length, 2 * 3 * 4, "2 controllers × 3 statistics × 4 windows");

    const res = await call("/v1/operator/utility/export");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/x-ndjson/);
    const lines = res.text
      .trimEnd()
      .split("\n")
      .map((l) => cidbExportLineSchema.parse(JSON.parse(l)));
    const end = lines.at(-1)!;
    assert.equal(end.type, "end");
    assert.equal(end.type === "end" && end.rows.meter_records, 12);
    assert.equal(lines.filter((l) => l.type === "row" && l.table === "meter_records").length, 12);
  });

  it("queues a recovery of the hours the CIDB lacks, once; and all of them on request", async () => {
    // One week back from 12:00:10 on 10 March: hours 3 March 13:00 to 10 March 11:00, 167 of them.
    const res = await post("/v1/operator/utility/recoveries", { controllerId: "res-1", weeks: 1 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      weeks: 1,
      all: false,
      controllers: [{ controllerId: "res-1", queued: 167 - 3 }],
    });
    const again = await post("/v1/operator/utility/recoveries", { controllerId: "res-1", weeks: 1 });
    assert.deepEqual((again.body as { controllers: unknown[] }).controllers, [
      { controllerId: "res-1", queued: 0 },
    ]);
    const all = await post("/v1/operator/utility/recoveries", { controllerId: "res-1", weeks: 1, all: true });
    assert.deepEqual((all.body as { controllers: unknown[] }).controllers, [
      { controllerId: "res-1", queued: 3 },
    ]);
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM failed_requests WHERE controller_id = 'res-1' AND reason = 'recovery'",
    );
    assert.equal(rows[0]!.n, "167");

    assert.equal((await post("/v1/operator/utility/recoveries", { controllerId: "nobody" })).status, 404);
    const bad = await post("/v1/operator/utility/recoveries", { weeks: 11 });
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: string }).error, /body\.weeks/);
  });

  it("queues commands for controllers and shows the outbox", async () => {
    const res = await post("/v1/operator/utility/commands", {
      command: { command: "set_data_interval", params: { seconds: 600 } },
    });
    assert.equal(res.status, 200);
    const queued = utilityComponentSchemas.CommandsQueued.parse(res.body);
    assert.deepEqual(
      queued.items.map((i) => i.controllerId),
      ["apt-1", "res-1"],
    );
    const one = await post("/v1/operator/utility/commands", {
      controllerIds: ["res-1"],
      command: { command: "reduce_power_demand_on" },
    });
    assert.equal(one.status, 200);

    const invalid = await post("/v1/operator/utility/commands", {
      command: { command: "set_data_interval", params: { seconds: 1 } },
    });
    assert.equal(invalid.status, 400);
    assert.match((invalid.body as { error: string }).error, /body\.command\.params\.seconds/);
    const unknown = await post("/v1/operator/utility/commands", {
      controllerIds: ["ghost"],
      command: { command: "reduce_power_demand_off" },
    });
    assert.equal(unknown.status, 404);
    assert.match((unknown.body as { error: string }).error, /no controller ghost/);

    const outbox = utilityComponentSchemas.ControllerCommandPage.parse(
      (await call("/v1/operator/utility/commands?controllerId=res-1&status=pending")).body,
    );
    assert.deepEqual(
      outbox.items.map((c) => [c.command, c.params, c.status]),
      [
        ["reduce_power_demand_on", {}, "pending"],
        ["set_data_interval", { seconds: 600 }, "pending"],
      ],
    );
  });

  it("lists every utility route in the OpenAPI document", async () => {
    const doc = (await call("/v1/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const utility = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith("/v1/operator/utility"))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`))
      .sort();
    assert.deepEqual(utility, [
      "get /v1/operator/utility/commands",
      "get /v1/operator/utility/controllers",
      "get /v1/operator/utility/controllers/{controllerId}/hours",
      "get /v1/operator/utility/export",
      "get /v1/operator/utility/failed-requests",
      "get /v1/operator/utility/rejected-records",
      "get /v1/operator/utility/statistics",
      "post /v1/operator/utility/commands",
      "post /v1/operator/utility/recoveries",
    ]);
  });
});
