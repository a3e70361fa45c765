import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";

import { realClock, scaledClock } from "@gridmesh/contracts";

import { createLogger } from "../../../common/logger.js";
import { migrate, type Database } from "../../../store/index.js";
import { HttpRegionalGrid } from "../httpRegionalGrid.js";
import { supplyConfigSchema, type SupplyConfigInput } from "../supplyConfig.js";
import { SupplyManager } from "../supplyManager.js";
import { overrideSupplyStatus } from "../supplyOverride.js";
import { startRegionalGridSimulator, type RegionalGridSimulator } from "./regionalGridSimulator.js";
import { insertControllers } from "./supplyDatabase.js";

const logger = createLogger({ level: "silent" });
const HOUR = 3_600_000;
/** A Monday, 10:00 UTC: off peak for the configured 17–21. */
const MORNING = Date.parse("2026-05-04T10:00:00Z");
const EVENING = Date.parse("2026-05-04T18:00:00Z");

const CONTROLLERS = [
  { id: "apt-1", location: "apartment" },
  { id: "er-1", location: "emergency" },
  { id: "res-1", location: "residential" },
  { id: "res-2", location: "residential" },
] as const;

type Queued = [controller: string, command: string, params: unknown];

/**
 * SupplyManager against a real store and a real loopback regional grid; run on PGlite and on a
 * PostgreSQL server (supplyManager.*.test.ts).
 */
export function defineSupplyManagerSuite({
  engine,
  openDatabase,
}: {
  engine: string;
  openDatabase: () => Promise<Database>;
}): void {
  void describe(`SupplyManager on ${engine}`, () => {
    let db: Database;
    let sim: RegionalGridSimulator;
    let lastCommandId = 0n;

    const manager = (overrides: Partial<SupplyConfigInput> = {}) =>
      new SupplyManager({
        db,
        grid: new HttpRegionalGrid({ url: sim.url, timeoutMs: 500 }),
        config: supplyConfigSchema.parse({
          feed: { kind: "http", url: sim.url },
          battery: { capacityWh: "100000" },
          ...overrides,
        }),
        clock: realClock,
        logger,
      });

    /** Commands queued since the last call, in queue order. */
    const newCommands = async (): Promise<Queued[]> => {
      const { rows } = await db.query<{
        id: bigint;
        controller_id: string;
        command: string;
        params: unknown;
      }>("SELECT id, controller_id, command, params FROM controller_commands WHERE id > $1 ORDER BY id", [
        lastCommandId,
      ]);
      if (rows.length > 0) lastCommandId = rows.at(-1)!.id;
      return rows.map((r) => [r.controller_id, r.command, r.params]);
    };

    before(async () => {
      db = await openDatabase();
      await migrate(db, { logger });
      sim = await startRegionalGridSimulator({ supply: "NORMAL" });
    });
    after(async () => {
      await sim.close();
      await db.close();
    });
    beforeEach(async () => {
      await db.exec(`TRUNCATE supply_state, supply_status_history, supply_battery, supply_battery_hours,
      supply_purchases, supply_routing, controller_commands, meter_records, smart_meters, customer_accounts,
      microgrid_controllers, billing_rates CASCADE`);
      await insertControllers(db, CONTROLLERS);
      lastCommandId = 0n;
      sim.supply = "NORMAL";
      sim.fault = undefined;
      sim.maxGrantWh = undefined;
      sim.purchases.length = 0;
    });

    void describe("routing by supply status", () => {
      void it("queues exactly the seed's commands at each transition, and nothing when the status holds", async () => {
        const m = manager();
        const round = async (supply: typeof sim.supply, atMs: number) => {
          sim.supply = supply;
          const result = await m.runOnce(atMs);
          assert.equal(result.status, supply);
          return newCommands();
        };
        // Controllers start with their whole feed and no demand reduction: NORMAL changes nothing.
        assert.deepEqual(await round("NORMAL", MORNING), []);
        assert.deepEqual(await round("LOW", MORNING + HOUR), [
          ["apt-1", "reduce_power_demand_on", {}],
          ["er-1", "reduce_power_demand_on", {}],
          ["res-1", "reduce_power_demand_on", {}],
          ["res-2", "reduce_power_demand_on", {}],
        ]);
        assert.deepEqual(await round("LOW", MORNING + 2 * HOUR), []);
        assert.deepEqual(await round("CRITICAL", MORNING + 3 * HOUR), [
          ["apt-1", "set_grid_supply", { fraction: 0.5 }],
          ["res-1", "set_grid_supply", { fraction: 0 }],
          ["res-2", "set_grid_supply", { fraction: 0 }],
        ]);
        assert.deepEqual(await round("EMPTY", MORNING + 4 * HOUR), [
          ["apt-1", "set_grid_supply", { fraction: 0 }],
        ]);
        assert.deepEqual(await round("EMPTY", MORNING + 5 * HOUR), []);
        // Back to NORMAL: supply is restored before demand reduction is lifted.
        assert.deepEqual(await round("NORMAL", MORNING + 6 * HOUR), [
          ["apt-1", "set_grid_supply", { fraction: 1 }],
          ["apt-1", "reduce_power_demand_off", {}],
          ["er-1", "reduce_power_demand_off", {}],
          ["res-1", "set_grid_supply", { fraction: 1 }],
          ["res-1", "reduce_power_demand_off", {}],
          ["res-2", "set_grid_supply", { fraction: 1 }],
          ["res-2", "reduce_power_demand_off", {}],
        ]);
        assert.deepEqual(await round("NORMAL", MORNING + 7 * HOUR), []);
      });

      void it("warns before it cuts: demand reduction is queued before a controller's supply drops", async () => {
        sim.supply = "EMPTY";
        await manager().runOnce(MORNING);
        assert.deepEqual(await newCommands(), [
          ["apt-1", "reduce_power_demand_on", {}],
          ["apt-1", "set_grid_supply", { fraction: 0 }],
          ["er-1", "reduce_power_demand_on", {}],
          ["res-1", "reduce_power_demand_on", {}],
          ["res-1", "set_grid_supply", { fraction: 0 }],
          ["res-2", "reduce_power_demand_on", {}],
          ["res-2", "set_grid_supply", { fraction: 0 }],
        ]);
      });

      void it("queues commands as pending, stamped with the utility's clock", async () => {
        sim.supply = "LOW";
        await manager().runOnce(MORNING);
        const { rows } = await db.query<{ status: string; created_at: Date; attempts: number }>(
          "SELECT DISTINCT status, created_at, attempts FROM controller_commands",
        );
        assert.deepEqual(rows, [{ status: "pending", created_at: new Date(MORNING), attempts: 0 }]);
      });

      void it("sends nothing again after a restart: the last decision is persisted", async () => {
        sim.supply = "CRITICAL";
        await manager().runOnce(MORNING);
        assert.equal((await newCommands()).length, 7);
        const restarted = manager();
        await restarted.runOnce(MORNING + HOUR);
        await restarted.runOnce(MORNING + 2 * HOUR);
        assert.deepEqual(await newCommands(), []);
      });

      void it("brings a controller registered later in line with the current status", async () => {
        sim.supply = "CRITICAL";
        const m = manager();
        await m.runOnce(MORNING);
        await newCommands();
        await insertControllers(db, [{ id: "res-3", location: "residential" }]);
        await m.runOnce(MORNING + HOUR);
        assert.deepEqual(await newCommands(), [
          ["res-3", "reduce_power_demand_on", {}],
          ["res-3", "set_grid_supply", { fraction: 0 }],
        ]);
      });
    });

    void describe("a failing feed", () => {
      void it("keeps the last known status, reports the failure, and sends nothing until the feed answers", async () => {
        const m = manager();
        sim.supply = "LOW";
        await m.runOnce(MORNING);
        await newCommands();

        sim.fault = "unavailable";
        for (const [i, atMs] of [MORNING + HOUR, MORNING + 2 * HOUR].entries()) {
          const result = await m.runOnce(atMs);
          assert.equal(result.status, "LOW");
          assert.equal(result.feed.ok, false);
          const { rows } = await db.query<{ feed_status: string; feed_failures: number; feed_error: string }>(
            "SELECT feed_status, feed_failures, feed_error FROM supply_state",
          );
          assert.equal(rows[0]!.feed_status, "LOW");
          assert.equal(rows[0]!.feed_failures, i + 1);
          assert.match(rows[0]!.feed_error, /answered 503/);
        }
        assert.deepEqual(await newCommands(), []);

        sim.fault = undefined;
        sim.supply = "NORMAL";
        const back = await m.runOnce(MORNING + 3 * HOUR);
        assert.equal(back.status, "NORMAL");
        assert.equal((await newCommands()).filter(([, c]) => c === "reduce_power_demand_off").length, 4);
        const { rows: history } = await db.query<{ source: string; reported_status: string | null }>(
          "SELECT source, reported_status FROM supply_status_history ORDER BY id",
        );
        // One entry for the outage, not one per failed round.
        assert.deepEqual(history, [
          { source: "feed", reported_status: "LOW" },
          { source: "feed_failure", reported_status: null },
          { source: "feed", reported_status: "NORMAL" },
        ]);
        const { rows } = await db.query<{ feed_failures: number }>("SELECT feed_failures FROM supply_state");
        assert.equal(rows[0]!.feed_failures, 0);
      });

      void it("never reads as NORMAL when the feed has never answered", async () => {
        sim.fault = "malformed";
        const result = await manager().runOnce(MORNING);
        assert.equal(result.status, null);
        assert.deepEqual(await newCommands(), []);
        const { rows } = await db.query("SELECT * FROM supply_routing");
        assert.deepEqual(rows, []);
      });

      void it("records a purchase that failed, with the error, and leaves the battery's charge as it was", async () => {
        sim.fault = "unavailable";
        const result = await manager({ battery: { capacityWh: "100000", initialChargeWh: "40000" } }).runOnce(
          MORNING,
        );
        assert.deepEqual(result.battery, { capacityWh: 100_000n, chargeWh: 40_000n });
        const { rows } = await db.query<{ requested_wh: bigint; granted_wh: bigint; error: string | null }>(
          "SELECT requested_wh, granted_wh, error FROM supply_purchases",
        );
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.requested_wh, 60_000n);
        assert.equal(rows[0]!.granted_wh, 0n);
        assert.match(rows[0]!.error ?? "", /answered 503/);
      });
    });

    void describe("an operator's override", () => {
      void it("acts at once, outlives the feed's answers, and hands back to the feed when cleared", async () => {
        const m = manager();
        await m.runOnce(MORNING);
        const set = await overrideSupplyStatus(db, {
          status: "CRITICAL",
          reason: "storm drill",
          atMs: MORNING + 60_000,
        });
        assert.equal(set.previous, "NORMAL");
        assert.equal(set.status, "CRITICAL");
        assert.deepEqual(
          (await newCommands()).filter(([id]) => id === "res-1"),
          [
            ["res-1", "reduce_power_demand_on", {}],
            ["res-1", "set_grid_supply", { fraction: 0 }],
          ],
        );
        assert.equal(set.commands.length, 7);

        // The feed still says NORMAL; the drill holds.
        const during = await m.runOnce(MORNING + HOUR);
        assert.equal(during.status, "CRITICAL");
        assert.deepEqual(await newCommands(), []);

        const cleared = await overrideSupplyStatus(db, {
          status: null,
          reason: "drill over",
          atMs: MORNING + 2 * HOUR,
        });
        assert.equal(cleared.status, "NORMAL");
        assert.equal((await newCommands()).length, 7);
        const { rows } = await db.query<{ source: string; reported_status: string | null; note: string }>(
          "SELECT source, reported_status, note FROM supply_status_history WHERE source LIKE 'override%' ORDER BY id",
        );
        assert.deepEqual(rows, [
          { source: "override", reported_status: "CRITICAL", note: "storm drill" },
          { source: "override_cleared", reported_status: null, note: "drill over" },
        ]);
      });
    });

    void describe("Purchase_power", () => {
      const purchases = async () =>
        (
          await db.query<{
            at: Date;
            peak: boolean;
            reason: string;
            requested_wh: bigint;
            granted_wh: bigint;
          }>("SELECT at, peak, reason, requested_wh, granted_wh FROM supply_purchases ORDER BY id")
        ).rows;

      void it("off peak, fills the battery", async () => {
        const result = await manager({ battery: { capacityWh: "100000", initialChargeWh: "30000" } }).runOnce(
          MORNING,
        );
        assert.deepEqual(result.purchase, {
          reason: "off_peak_refill",
          requestedWh: 70_000n,
          grantedWh: 70_000n,
        });
        assert.deepEqual(result.battery, { capacityWh: 100_000n, chargeWh: 100_000n });
        assert.deepEqual(await purchases(), [
          {
            at: new Date(MORNING),
            peak: false,
            reason: "off_peak_refill",
            requested_wh: 70_000n,
            granted_wh: 70_000n,
          },
        ]);
      });

      void it("in peak hours, buys nothing above the critical level and only back up to it below", async () => {
        const fine = await manager({ battery: { capacityWh: "100000", initialChargeWh: "50000" } }).runOnce(
          EVENING,
        );
        assert.equal(fine.peak, true);
        assert.equal(fine.purchase, null);
        assert.equal(sim.purchases.length, 0);

        await db.exec("TRUNCATE supply_battery");
        const low = await manager({ battery: { capacityWh: "100000", initialChargeWh: "12000" } }).runOnce(
          EVENING,
        );
        assert.deepEqual(low.purchase, { reason: "critical_refill", requestedWh: 8_000n, grantedWh: 8_000n });
        assert.equal(low.battery.chargeWh, 20_000n);
      });

      void it("adds only what the grid granted", async () => {
        sim.maxGrantWh = 5_000n;
        const m = manager({ battery: { capacityWh: "100000", initialChargeWh: "0" } });
        assert.equal((await m.runOnce(MORNING)).battery.chargeWh, 5_000n);
        sim.supply = "EMPTY";
        const empty = await m.runOnce(MORNING + HOUR);
        assert.deepEqual(empty.purchase, { reason: "off_peak_refill", requestedWh: 95_000n, grantedWh: 0n });
        assert.equal(empty.battery.chargeWh, 5_000n);
      });

      void it("moves with the configured peak hours", async () => {
        const battery = { capacityWh: "100000", initialChargeWh: "50000" };
        // 10:00 UTC: off peak under 17–21, peak under 8–12.
        const evening = await manager({ battery, peakHours: { startHour: 17, endHour: 21 } }).runOnce(
          MORNING,
        );
        assert.equal(evening.peak, false);
        assert.equal(evening.purchase?.reason, "off_peak_refill");
        await db.exec("TRUNCATE supply_battery");
        const morning = await manager({ battery, peakHours: { startHour: 8, endHour: 12 } }).runOnce(MORNING);
        assert.equal(morning.peak, true);
        assert.equal(morning.purchase, null);
      });

      void it("moves with a month's billing rates, in the zone they were set in", async () => {
        const battery = { capacityWh: "100000", initialChargeWh: "50000" };
        const m = manager({ battery, timeZone: "America/New_York" });
        // No rates for May: the configured 17–21, New York time. 10:00 UTC is 06:00 there: off peak.
        const before = await m.runOnce(MORNING);
        assert.deepEqual(before.peakHours, {
          startHour: 17,
          endHour: 21,
          timeZone: "America/New_York",
          source: "configuration",
        });
        assert.equal(before.peak, false);
        // The pandemic moves peak hours to the morning (seed 000 §3.1, long-term changes).
        await db.query(
          `INSERT INTO billing_rates (month, peak_rate, off_peak_rate, peak_start_hour, peak_end_hour, time_zone, set_at)
         VALUES ('2026-05', 300000, 120000, 5, 9, 'America/New_York', now())`,
        );
        await db.exec("UPDATE supply_battery SET charge_wh = 50000");
        const after = await m.runOnce(MORNING + 1_000);
        assert.deepEqual(after.peakHours, {
          startHour: 5,
          endHour: 9,
          timeZone: "America/New_York",
          source: "billing_rates 2026-05",
        });
        assert.equal(after.peak, true);
        assert.equal(after.purchase, null);
        // 13:00 UTC is 09:00 in New York: off peak again, and the battery is filled.
        const later = await m.runOnce(MORNING + 3 * HOUR);
        assert.equal(later.peak, false);
        assert.equal(later.purchase?.reason, "off_peak_refill");
      });
    });

    void describe("the utility's battery", () => {
      const METER = "0x00000000000000000000000000000000000000a1";
      let sequence = 0n;

      /** A record of the meter starting at `startMs`, importing and exporting the given watt-hours. */
      const record = async (startMs: number, importWh: bigint, exportWh: bigint) => {
        sequence++;
        await db.query(
          `INSERT INTO meter_records (meter, sequence, interval_index, start_time, end_time, import_start_wh,
           import_end_wh, export_start_wh, export_end_wh, reading_timestamp, signature, controller_id)
         VALUES ($1, $2, $3, $4, $5, 0, $6, 0, $7, $8, $9, 'res-1')`,
          [
            METER,
            sequence,
            BigInt(startMs / 300_000),
            new Date(startMs),
            new Date(startMs + 300_000),
            importWh,
            exportWh,
            BigInt(startMs / 1000 + 300),
            Buffer.alloc(65, 1),
          ],
        );
      };

      beforeEach(async () => {
        sequence = 0n;
        await db.query("INSERT INTO customer_accounts VALUES ('A-1', 'res-1', 1000, 1000)");
        await db.query(
          "INSERT INTO smart_meters (meter, account_number, controller_id, function, direction) VALUES ($1, 'A-1', 'res-1', 'meter', 'bidirectional')",
          [METER],
        );
      });

      void it("drains by the microgrids' net import as records arrive, each record once, late ones too", async () => {
        // In peak hours with a high charge nothing is bought, so the charge shows the drain alone.
        const m = manager({ battery: { capacityWh: "100000", initialChargeWh: "90000" } });
        await m.runOnce(EVENING);
        await record(EVENING + 5 * 60_000, 3_000n, 500n); // net 2 500
        await record(EVENING + 10 * 60_000, 1_000n, 0n); // net 1 000
        const first = await m.runOnce(EVENING + HOUR);
        assert.deepEqual(first.supplied, { hours: 1, netImportWh: 3_500n });
        assert.equal(first.battery.chargeWh, 86_500n);

        assert.deepEqual((await m.runOnce(EVENING + HOUR + 60_000)).supplied, { hours: 0, netImportWh: 0n });

        // A record of the first hour arriving an hour late (a delayed poll) drains by itself alone.
        await record(EVENING + 15 * 60_000, 2_000n, 0n);
        const late = await m.runOnce(EVENING + 2 * HOUR);
        assert.deepEqual(late.supplied, { hours: 1, netImportWh: 2_000n });
        assert.equal(late.battery.chargeWh, 84_500n);
      });

      void it("is charged by exports, up to its capacity, and counts what it could not cover", async () => {
        const m = manager({ battery: { capacityWh: "100000", initialChargeWh: "99000" } });
        await m.runOnce(EVENING);
        await record(EVENING + 5 * 60_000, 0n, 3_000n);
        assert.equal((await m.runOnce(EVENING + HOUR)).battery.chargeWh, 100_000n);
        await record(EVENING + HOUR + 5 * 60_000, 150_000n, 0n);
        const drained = await m.runOnce(EVENING + 2 * HOUR);
        // 100 000 Wh in the battery, 150 000 supplied: 50 000 came straight from the grid. Then, still in
        // peak hours and critically low, it buys back to the critical 20 000.
        assert.equal(drained.purchase?.reason, "critical_refill");
        assert.equal(drained.battery.chargeWh, 20_000n);
        const { rows } = await db.query<{ unserved_wh: bigint; spilled_wh: bigint }>(
          "SELECT unserved_wh, spilled_wh FROM supply_battery",
        );
        assert.deepEqual(rows[0], { unserved_wh: 50_000n, spilled_wh: 2_000n });
      });

      void it("is not charged for energy supplied before it was recorded", async () => {
        await record(EVENING - 2 * HOUR, 10_000n, 0n);
        const m = manager({ battery: { capacityWh: "100000", initialChargeWh: "90000" } });
        const result = await m.runOnce(EVENING);
        assert.deepEqual(result.supplied, { hours: 0, netImportWh: 0n });
        assert.equal(result.battery.chargeWh, 90_000n);
      });

      void it("keeps its charge across restarts and takes a new capacity from configuration", async () => {
        await manager({ battery: { capacityWh: "100000", initialChargeWh: "90000" } }).runOnce(EVENING);
        const smaller = await manager({ battery: { capacityWh: "80000", initialChargeWh: "1" } }).runOnce(
          EVENING + 1,
        );
        assert.deepEqual(smaller.battery, { capacityWh: 80_000n, chargeWh: 80_000n });
        const larger = await manager({ battery: { capacityWh: "200000" } }).runOnce(EVENING + 2);
        assert.deepEqual(larger.battery, { capacityWh: 200_000n, chargeWh: 80_000n });
      });
    });

    void describe("the loop", () => {
      let m: SupplyManager | undefined;
      afterEach(() => m?.stop());

      void it("runs a round every period of the utility's clock until stopped", async () => {
        // Five simulated minutes pass every 50 ms of wall time.
        const clock = scaledClock(Date.now(), 6_000);
        m = new SupplyManager({
          db,
          grid: new HttpRegionalGrid({ url: sim.url, timeoutMs: 500 }),
          config: supplyConfigSchema.parse({
            feed: { kind: "http", url: sim.url },
            battery: { capacityWh: "100000" },
            purchase: { everySeconds: 300 },
          }),
          clock,
          logger,
        });
        m.start();
        // Watch the simulated time of each round until three have run (or give up after 5 s).
        const seen: number[] = [];
        const deadline = Date.now() + 5_000;
        while (seen.length < 3 && Date.now() < deadline) {
          const atMs = m.status().lastRound?.atMs;
          if (atMs !== undefined && atMs !== seen.at(-1)) seen.push(atMs);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await m.stop();
        assert.equal(seen.length, 3, `rounds seen: ${seen.length}`);
        for (let i = 1; i < seen.length; i++)
          assert.ok(seen[i]! - seen[i - 1]! >= 300_000, `round ${i} came early`);
        const after = sim.requests;
        await new Promise((resolve) => setTimeout(resolve, 150));
        assert.equal(sim.requests, after, "no round after stop");
        assert.equal(m.status().lastError, null);
      });
    });
  });
}
