import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { realClock } from "@gridmesh/contracts";

import { createLogger } from "../../common/logger.js";
import type { Database } from "../../store/index.js";
import { HttpRegionalGrid } from "../../utility/supply/httpRegionalGrid.js";
import { supplyConfigSchema } from "../../utility/supply/supplyConfig.js";
import { SupplyManager } from "../../utility/supply/supplyManager.js";
import { createSupplyDatabase, insertControllers } from "../../utility/supply/testing/supplyDatabase.js";
import {
  startRegionalGridSimulator,
  type RegionalGridSimulator,
} from "../../utility/supply/testing/regionalGridSimulator.js";
import { OPERATOR_TOKEN, startApiServer, type ApiServer } from "../testing/apiTestContext.js";
import {
  supplyBatterySchema,
  supplyHistoryPageSchema,
  supplyOverrideResultSchema,
  supplyPurchasePageSchema,
  supplyRoutingSchema,
  supplyStatusViewSchema,
} from "../supplySchemas.js";

const logger = createLogger({ level: "silent" });
const auth = { authorization: `Bearer ${OPERATOR_TOKEN}` };
const MORNING = Date.parse("2026-05-04T10:00:00Z");
const HOUR = 3_600_000;

describe("supply endpoints", () => {
  let db: Database;
  let api: ApiServer;
  let sim: RegionalGridSimulator;
  let manager: SupplyManager;

  const get = async (path: string) => {
    const res = await api.call(path, { headers: auth });
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  const post = (body: unknown) =>
    api.call("/v1/operator/supply/override", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  before(async () => {
    db = await createSupplyDatabase(logger);
    await insertControllers(db, [
      { id: "apt-1", location: "apartment" },
      { id: "res-1", location: "residential" },
    ]);
    api = await startApiServer(db, { operator: true });
    sim = await startRegionalGridSimulator({ supply: "LOW" });
    manager = new SupplyManager({
      db,
      grid: new HttpRegionalGrid({ url: sim.url, timeoutMs: 500 }),
      config: supplyConfigSchema.parse({
        feed: { kind: "http", url: sim.url },
        battery: { capacityWh: "100000", initialChargeWh: "40000" },
      }),
      clock: realClock,
      logger,
    });
  });
  after(async () => {
    await api.close();
    await sim.close();
    await db.close();
  });

  it("are the operator's alone", async () => {
    for (const path of [
      "/v1/operator/supply",
      "/v1/operator/supply/routing",
      "/v1/operator/supply/battery",
    ]) {
      assert.equal((await api.call(path)).status, 401, path);
    }
    assert.equal((await api.call("/v1/operator/supply/override", { method: "POST" })).status, 401);
  });

  it("say the status is unknown, and the battery unrecorded, before supply has run", async () => {
    const status = supplyStatusViewSchema.parse(await get("/v1/operator/supply"));
    assert.equal(status.status, null);
    assert.equal(status.decidedBy, "unknown");
    assert.equal(status.lastRound, null);
    const battery = await api.call("/v1/operator/supply/battery", { headers: auth });
    assert.equal(battery.status, 404);
    assert.match((battery.body as { error: string }).error, /not recorded yet/);
  });

  it("show the status, its feed, routing, battery and purchases after rounds", async () => {
    // The grid grants half of the first purchase; the second round's purchase fails.
    sim.maxGrantWh = 30_000n;
    await manager.runOnce(MORNING);
    sim.fault = "unavailable";
    await manager.runOnce(MORNING + HOUR);

    const status = supplyStatusViewSchema.parse(await get("/v1/operator/supply"));
    assert.equal(status.status, "LOW");
    assert.equal(status.decidedBy, "feed");
    assert.equal(status.feed.status, "LOW");
    assert.equal(status.feed.source, sim.url);
    assert.equal(status.feed.failing, true);
    assert.equal(status.feed.consecutiveFailures, 1);
    assert.match(status.feed.lastError ?? "", /answered 503/);
    assert.equal(status.feed.answeredAt, new Date(MORNING).toISOString());
    assert.deepEqual(status.lastRound, {
      at: new Date(MORNING + HOUR).toISOString(),
      peak: false,
      peakHours: { startHour: 17, endHour: 21, timeZone: "UTC", source: "configuration" },
    });

    const routing = supplyRoutingSchema.parse(await get("/v1/operator/supply/routing"));
    assert.deepEqual(routing, {
      status: "LOW",
      controllers: [
        {
          controllerId: "apt-1",
          location: "apartment",
          fraction: 1,
          demandReduction: true,
          decidedUnder: "LOW",
          decidedAt: new Date(MORNING).toISOString(),
        },
        {
          controllerId: "res-1",
          location: "residential",
          fraction: 1,
          demandReduction: true,
          decidedUnder: "LOW",
          decidedAt: new Date(MORNING).toISOString(),
        },
      ],
    });

    const battery = supplyBatterySchema.parse(await get("/v1/operator/supply/battery"));
    assert.equal(battery.capacityWh, "100000");
    assert.equal(battery.chargeWh, "70000");
    assert.equal(battery.criticalWh, "20000");
    assert.equal(battery.criticallyLow, false);

    // Two purchases, newest first: the failed one, then the half-granted one.
    const first = supplyPurchasePageSchema.parse(await get("/v1/operator/supply/purchases?limit=1"));
    assert.equal(first.items.length, 1);
    assert.equal(first.items[0]!.requestedWh, "30000");
    assert.equal(first.items[0]!.supplyStatus, null);
    assert.match(first.items[0]!.error ?? "", /answered 503/);
    assert.ok(first.nextCursor !== null);
    const second = supplyPurchasePageSchema.parse(
      await get(`/v1/operator/supply/purchases?limit=1&cursor=${first.nextCursor}`),
    );
    assert.equal(second.nextCursor, null);
    assert.deepEqual(second.items[0], {
      id: second.items[0]!.id,
      at: new Date(MORNING).toISOString(),
      peak: false,
      reason: "off_peak_refill",
      requestedWh: "60000",
      grantedWh: "30000",
      supplyStatus: "LOW",
      chargeBeforeWh: "40000",
      chargeAfterWh: "70000",
      error: null,
    });
    sim.fault = undefined;
    sim.maxGrantWh = undefined;
  });

  it("take an override for a drill, queue its commands at once, and record it", async () => {
    const historyBefore = supplyHistoryPageSchema.parse(await get("/v1/operator/supply/history")).items
      .length;
    const res = await post({ status: "CRITICAL", reason: "storm drill" });
    assert.equal(res.status, 200, res.text);
    const result = supplyOverrideResultSchema.parse(res.body);
    assert.equal(result.previous, "LOW");
    assert.equal(result.status, "CRITICAL");
    assert.deepEqual(
      result.commands.map((c) => [c.controllerId, c.command, c.params]),
      [
        ["apt-1", "set_grid_supply", { fraction: 0.5 }],
        ["res-1", "set_grid_supply", { fraction: 0 }],
      ],
    );
    const status = supplyStatusViewSchema.parse(await get("/v1/operator/supply"));
    assert.equal(status.decidedBy, "override");
    assert.equal(status.override?.reason, "storm drill");
    assert.equal(status.feed.status, "LOW");

    const history = supplyHistoryPageSchema.parse(await get("/v1/operator/supply/history"));
    assert.equal(history.items.length, historyBefore + 1);
    assert.deepEqual(
      { ...history.items[0]!, id: "", at: "" },
      {
        id: "",
        at: "",
        source: "override",
        reportedStatus: "CRITICAL",
        previousStatus: "LOW",
        effectiveStatus: "CRITICAL",
        note: "storm drill",
      },
    );

    const cleared = supplyOverrideResultSchema.parse(
      (await post({ status: null, reason: "drill over" })).body,
    );
    assert.equal(cleared.status, "LOW");
    assert.equal(cleared.commands.length, 2);
  });

  it("refuse a malformed override and record nothing", async () => {
    const countOf = async () =>
      (await db.query<{ n: bigint }>("SELECT count(*) AS n FROM supply_status_history")).rows[0]!.n;
    const before = await countOf();
    for (const body of [
      { status: "LOWISH", reason: "x" },
      { status: "LOW" },
      { status: "LOW", reason: "  " },
    ]) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal(await countOf(), before);
  });
});
