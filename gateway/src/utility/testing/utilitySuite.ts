import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";

import { Wallet } from "ethers";

import { createLogger } from "../../common/logger.js";
import { HOUR_MS, hourName } from "../../microgrid/controllerApi.js";
import { migrate, type Database } from "../../store/index.js";
import { enqueueControllerCommand } from "../commands/commandOutbox.js";
import { exportAllData } from "../export/exportAllData.js";
import { applyRetention } from "../retention.js";
import { computeStatistics } from "../statistics/computeStatistics.js";
import { exportStatistics } from "../statistics/exportStatistics.js";
import { INTERVAL_SECONDS, TestMeter } from "./signedReadings.js";
import { utilityFixture, type UtilityFixture } from "./utilityFixture.js";

export interface UtilitySuiteEngine {
  engine: Database["engine"];
  /** A new, empty database (one per suite: each test starts from emptied tables). */
  openDatabase(): Promise<Database>;
}

const logger = createLogger({ level: "silent" });
const at = (iso: string) => Date.parse(iso);
/** 2026-03-10, the day the tests' meters start counting intervals. */
const DAY = at("2026-03-10T00:00:00Z");
const EPOCH_INTERVAL = DAY / 1000 / INTERVAL_SECONDS;
const hourAt = (h: number) => DAY + h * HOUR_MS;

const m1 = new TestMeter(1);
const m2 = new TestMeter(2);
const m3 = new TestMeter(3);
const stranger = new TestMeter(99);

type RecordRow = {
  meter: string;
  sequence: string;
  interval_index: string;
  signature: string;
  start_time: Date;
};

async function records(db: Database, meter?: string): Promise<RecordRow[]> {
  const { rows } = await db.query<RecordRow>(
    `SELECT meter, sequence::text, interval_index::text, '0x' || encode(signature, 'hex') AS signature, start_time
     FROM meter_records WHERE $1::text IS NULL OR meter = $1 ORDER BY meter, sequence`,
    [meter ?? null],
  );
  return rows;
}

/**
 * The utility's data management against a real store, the same on each engine: polling, refusals,
 * the failed-request queue, catch-up, recovery, statistics, exports, retention and commands.
 */
export function defineUtilitySuite(engine: UtilitySuiteEngine): void {
  void describe(`utility data management on ${engine.engine}`, () => {
    let db: Database;
    let fx: UtilityFixture;
    const fill = async (controllerId: string, meters: TestMeter[], hour: number) => {
      const readings = [];
      for (const m of meters) readings.push(...(await m.readingsReceivedIn(hourAt(hour), EPOCH_INTERVAL)));
      fx.controller(controllerId).hours.set(hourName(hourAt(hour)), { readings, backup: false });
    };
    /** Query_data as run just after hour `h` ended. */
    const queryAfter = (h: number) => {
      fx.clock.set(hourAt(h + 1) + 10_000);
      return fx.service.queryData();
    };
    const drainFrq = async () => {
      for (let i = 0; i < 1000; i++) {
        fx.clock.advance(1_000);
        if ((await fx.service.remakeOnce()) === undefined) {
          const { rows } = await db.query("SELECT 1 FROM failed_requests WHERE reason <> 'recovery'");
          if (rows.length === 0) return;
          fx.clock.advance(60_000);
        }
      }
      assert.fail("the FRQ did not drain");
    };

    before(async () => {
      db = await engine.openDatabase();
      await migrate(db, { logger });
    });
    after(() => db.close());
    beforeEach(async () => {
      // Every CIDB table hangs off the controllers, but for the refused records.
      await db.query("TRUNCATE microgrid_controllers, rejected_records RESTART IDENTITY CASCADE");
      fx = await utilityFixture({
        db,
        startMs: at("2026-03-10T09:30:00Z"),
        controllers: [
          { id: "res-1", meters: [m1, m2] },
          { id: "apt-1", location: "apartment", meters: [m3] },
        ],
      });
    });
    afterEach(() => fx.close());

    void it("stores a completed hour with every reading as signed, then acknowledges it", async () => {
      await fill("res-1", [m1, m2], 9);
      const result = await queryAfter(9);
      assert.deepEqual(result, {
        hour: "2026-03-10T09:00:00Z",
        caughtUp: 0,
        stored: 2,
        failed: 0,
        alreadyHeld: 0,
      });

      const held = await records(db);
      assert.equal(held.length, 8);
      const sent = fx.controller("res-1").hours.get("2026-03-10T09:00:00Z")!.readings as {
        reading: { meter: string; sequence: string; interval: string };
        signature: string;
      }[];
      for (const s of sent) {
        const row = held.find((r) => r.meter === s.reading.meter && r.sequence === s.reading.sequence);
        assert.ok(row, `reading ${s.reading.sequence} of ${s.reading.meter} stored`);
        assert.equal(row.signature, s.signature.toLowerCase());
        assert.equal(row.interval_index, s.reading.interval);
        assert.equal(row.start_time.getTime(), Number(s.reading.interval) * INTERVAL_SECONDS * 1000);
      }
      const { rows: energy } = await db.query<{ import_wh: bigint; export_wh: bigint; span: number }>(
        "SELECT import_wh, export_wh, extract(epoch FROM end_time - start_time)::int AS span FROM meter_records",
      );
      assert.ok(
        energy.every((e) => e.import_wh === 10n && e.export_wh === 3n && e.span === INTERVAL_SECONDS),
      );

      const { rows: hours } = await db.query<{
        controller_id: string;
        records: number;
        rejected: number;
        acknowledged: boolean;
      }>("SELECT controller_id, records, rejected, acknowledged FROM usage_hours ORDER BY controller_id");
      assert.deepEqual(hours, [
        { controller_id: "apt-1", records: 0, rejected: 0, acknowledged: true },
        { controller_id: "res-1", records: 8, rejected: 0, acknowledged: true },
      ]);
      assert.equal(fx.controller("res-1").hours.get("2026-03-10T09:00:00Z")!.backup, true);

      // Asked again within the hour (a restart), nothing is fetched twice.
      const again = await fx.service.queryData();
      assert.equal(again.alreadyHeld, 2);
      assert.equal(fx.controller("res-1").gets().length, 1);
    });

    void it("refuses forged, foreign, unknown, malformed and conflicting readings with reasons, storing the rest", async () => {
      const forger = Wallet.createRandom();
      const good = await m1.readingsReceivedIn(hourAt(9), EPOCH_INTERVAL);
      const m2readings = await m2.readingsReceivedIn(hourAt(9), EPOCH_INTERVAL);
      // m2's second reading of the hour (interval 36 of the day, sequence 37), signed by another key.
      const forged = await m2.sign(m2.reading(EPOCH_INTERVAL + 36, 37, undefined, EPOCH_INTERVAL), forger);
      const foreign = (await m3.readingsReceivedIn(hourAt(9), EPOCH_INTERVAL))[0]!;
      const unknown = (await stranger.readingsReceivedIn(hourAt(9), EPOCH_INTERVAL))[0]!;
      const malformed = { reading: { ...good[0]!.reading, sequence: "01" }, signature: "0x1234" };
      fx.controller("res-1").hours.set("2026-03-10T09:00:00Z", {
        readings: [
          ...good,
          m2readings[0]!,
          forged,
          m2readings[2]!,
          m2readings[3]!,
          foreign,
          unknown,
          malformed,
        ],
        backup: false,
      });
      await queryAfter(9);

      assert.equal((await records(db, m1.address)).length, 4);
      assert.deepEqual(
        (await records(db, m2.address)).map((r) => r.sequence),
        [m2readings[0], m2readings[2], m2readings[3]].map((r) => r!.reading.sequence),
      );
      const rejected = async () =>
        (
          await db.query<{ reason: string; record: unknown }>(
            "SELECT reason, record FROM rejected_records ORDER BY id",
          )
        ).rows;
      const reasons = (await rejected()).map((r) => r.reason);
      assert.equal(reasons.length, 4);
      assert.match(reasons[0]!, new RegExp(`^signed by 0x[0-9a-fA-F]{40}, not by meter ${m2.address}$`, "i"));
      assert.equal(reasons[1], `meter ${m3.address} is not a meter of controller res-1`);
      assert.equal(reasons[2], `meter ${stranger.address} is not a meter of controller res-1`);
      assert.match(reasons[3]!, /^malformed reading: .*reading\.sequence.*signature/);
      assert.deepEqual((await rejected())[0]!.record, forged, "the refused reading is kept as it came");
      const hour9 = await db.query<{ records: number; rejected: number; acknowledged: boolean }>(
        "SELECT records, rejected, acknowledged FROM usage_hours WHERE controller_id = 'res-1'",
      );
      assert.deepEqual(hour9.rows, [{ records: 7, rejected: 4, acknowledged: true }]);

      // The next hour re-delivers one stored reading unchanged and another with different registers.
      const replay = good[1]!;
      const altered = await m1.sign({
        ...m1.reading(EPOCH_INTERVAL + 36, 37, undefined, EPOCH_INTERVAL),
        importEndWh: 99_999n,
      });
      fx.controller("res-1").hours.set("2026-03-10T10:00:00Z", {
        readings: [replay, altered],
        backup: false,
      });
      await queryAfter(10);
      const hour10 = await db.query<{ records: number; rejected: number }>(
        "SELECT records, rejected FROM usage_hours WHERE controller_id = 'res-1' AND hour = '2026-03-10T10:00:00Z'",
      );
      assert.deepEqual(hour10.rows, [{ records: 1, rejected: 1 }]);
      assert.match(
        (await rejected())[4]!.reason,
        new RegExp(
          `^a different reading is stored for meter ${m1.address}: sequence 37 of interval ${EPOCH_INTERVAL + 36}`,
        ),
      );
      assert.equal((await records(db, m1.address)).length, 4, "the stored record was not replaced");

      // Within one hour: the same new reading twice is held once; a different one under its sequence is refused.
      const next = m1.reading(EPOCH_INTERVAL + 39, 40, undefined, EPOCH_INTERVAL);
      const twin = await m1.sign(next);
      const rival = await m1.sign({ ...next, exportEndWh: next.exportEndWh + 1n });
      fx.controller("res-1").hours.set("2026-03-10T11:00:00Z", {
        readings: [twin, twin, rival],
        backup: false,
      });
      await queryAfter(11);
      const hour11 = await db.query<{ records: number; rejected: number }>(
        "SELECT records, rejected FROM usage_hours WHERE controller_id = 'res-1' AND hour = '2026-03-10T11:00:00Z'",
      );
      assert.deepEqual(hour11.rows, [{ records: 2, rejected: 1 }]);
      assert.match(
        (await rejected())[5]!.reason,
        /^a different reading is stored for meter .*: sequence 40 /,
      );
      assert.equal((await records(db, m1.address)).length, 5);

      // Re-requesting every hour changes nothing: no record, refusal or hour twice.
      const before = { records: await records(db), rejected: await rejected() };
      await fx.service.recover({ all: true });
      assert.deepEqual(await fx.service.drainRecovery(), { stored: 6, failed: 0 });
      assert.deepEqual(await records(db), before.records);
      assert.deepEqual(await rejected(), before.rejected);
    });

    void it("queues a down controller's hours in the FRQ with backoff, and remakes each exactly once", async () => {
      await fx.controller("apt-1").down();
      for (const h of [9, 10, 11]) {
        await fill("res-1", [m1, m2], h);
        await fill("apt-1", [m3], h);
        const r = await queryAfter(h);
        assert.deepEqual([r.stored, r.failed], [1, 1]);
      }
      const frq = async () =>
        (
          await db.query<{ hour: Date; reason: string; attempts: number; last_error: string }>(
            "SELECT hour, reason, attempts, last_error FROM failed_requests ORDER BY hour",
          )
        ).rows;
      const queued = await frq();
      assert.deepEqual(
        queued.map((q) => [hourName(q.hour.getTime()), q.reason, q.attempts]),
        [9, 10, 11].map((h) => [hourName(hourAt(h)), "failed", 1]),
      );
      assert.match(
        queued[0]!.last_error,
        /^controller apt-1: GET \/v1\/usage\/2026-03-10T09:00:00Z is unreachable/,
      );

      // Still down: the oldest hour is remade, fails, and waits longer before the next try.
      fx.clock.advance(1_000);
      const outcome = await fx.service.remakeOnce();
      assert.equal(outcome?.status, "failed");
      assert.equal(outcome.hour, "2026-03-10T09:00:00Z");
      assert.equal((await frq())[0]!.attempts, 2);
      fx.clock.advance(1_000);
      assert.equal(
        (await fx.service.remakeOnce())?.hour,
        "2026-03-10T10:00:00Z",
        "the failed hour backs off",
      );

      await fx.controller("apt-1").resume();
      await drainFrq();
      assert.deepEqual(await frq(), []);
      const m3records = await records(db, m3.address);
      assert.equal(m3records.length, 12);
      assert.equal(new Set(m3records.map((r) => r.interval_index)).size, 12, "no interval twice");
      for (const h of [9, 10, 11]) assert.equal(fx.controller("apt-1").gets(hourName(hourAt(h))).length, 1);
      const { rows } = await db.query("SELECT 1 FROM usage_hours WHERE NOT acknowledged");
      assert.equal(rows.length, 0);
    });

    void it("gives up an hour the controller no longer keeps, leaving it missing", async () => {
      fx.clock.set(hourAt(12) + 10_000);
      const old = "2025-12-29T11:00:00Z"; // ten weeks and a day before
      await db.query(
        `INSERT INTO failed_requests (controller_id, hour, reason, attempts, last_error, first_failed_at, last_failed_at)
         VALUES ('res-1', $1, 'failed', 3, 'down', $2, $2)`,
        [old, new Date(Date.parse(old) + HOUR_MS)],
      );
      const outcome = await fx.service.remakeOnce();
      assert.equal(outcome?.status, "failed");
      assert.match(
        outcome.status === "failed" ? outcome.error : "",
        /answered 404: hour .* older than the ten weeks/,
      );
      assert.equal((await db.query("SELECT 1 FROM failed_requests")).rows.length, 0);
      assert.equal((await db.query("SELECT 1 FROM usage_hours")).rows.length, 0);
    });

    void it("catches up every hour missed while the utility itself was down", async () => {
      await fill("res-1", [m1, m2], 9);
      await queryAfter(9);
      // Twelve hours pass with the utility down; the controllers keep collecting.
      for (let h = 10; h <= 21; h++) await fill("res-1", [m1, m2], h);
      fx.clock.set(hourAt(22) + 10_000);
      const service = await fx.restart();
      const result = await service.queryData();
      assert.equal(result.hour, "2026-03-10T21:00:00Z");
      assert.equal(result.caughtUp, 2 * 11, "hours 10:00 to 20:00 of both controllers");
      assert.equal(result.stored, 2);
      await drainFrq();
      const held = await records(db, m1.address);
      assert.deepEqual(
        held.map((r) => Number(r.sequence)),
        Array.from({ length: 13 * 4 }, (_, i) => 36 + i),
        "every reading of 09:00–21:59, once",
      );
      const { rows } = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM usage_hours");
      assert.equal(rows[0]!.n, String(2 * 13));
    });

    void it("recovers lost meter records from the controllers' backups, idempotently", async () => {
      for (const h of [9, 10, 11]) {
        await fill("res-1", [m1, m2], h);
        await fill("apt-1", [m3], h);
        await queryAfter(h);
      }
      const original = await records(db);
      assert.equal(original.length, 36);

      await db.query("DELETE FROM meter_records");
      const plan = await fx.service.recover({ all: true });
      assert.deepEqual(
        plan.map((p) => [p.controllerId, p.listed, p.queued]),
        [
          ["res-1", 3, 3],
          ["apt-1", 3, 3],
        ],
      );
      assert.deepEqual(await fx.service.drainRecovery(), { stored: 6, failed: 0 });
      assert.deepEqual(await records(db), original);

      // Everything is held in full now: asking again queues nothing.
      assert.deepEqual(
        (await fx.service.recover()).map((p) => p.queued),
        [0, 0],
      );
      // A loss of the hours' bookkeeping too is found without `all`.
      await db.query("DELETE FROM meter_records WHERE meter = $1", [m3.address]);
      await db.query(
        "DELETE FROM usage_hours WHERE controller_id = 'apt-1' AND hour > '2026-03-10T09:00:00Z'",
      );
      assert.deepEqual(
        (await fx.service.recover({ controllerId: "apt-1" })).map((p) => p.queued),
        [2],
      );
      await fx.service.drainRecovery();
      assert.equal(
        (await records(db, m3.address)).length,
        8,
        "hours 10:00 and 11:00 again; 09:00 was not asked",
      );
    });

    void it("computes monthly statistics from meter records (hand-computed)", async () => {
      // Records inserted directly: meter, start, import Wh, export Wh.
      const insert = async (
        meter: TestMeter,
        controllerId: string,
        startIso: string,
        importWh: number,
        exportWh: number,
      ) => {
        const t = Date.parse(startIso) / 1000 / INTERVAL_SECONDS;
        await db.query(
          `INSERT INTO meter_records (meter, sequence, interval_index, start_time, end_time, import_start_wh,
             import_end_wh, export_start_wh, export_end_wh, reading_timestamp, signature, controller_id)
           VALUES ($1, $2::bigint, $2::bigint, to_timestamp($2::bigint * 900), to_timestamp(($2::bigint + 1) * 900), 0, $3, 0, $4, 0,
                   decode(repeat('11', 65), 'hex'), $5)`,
          [meter.address, t, importWh, exportWh, controllerId],
        );
      };
      await db.query("UPDATE microgrid_controllers SET created_at = '2026-01-01T00:00:00Z'");
      // February: res-1 generates 1500 + 400 = 1900 Wh and consumes 200 + 700 = 900 Wh.
      await insert(m1, "res-1", "2026-02-01T00:00:00Z", 200, 1500);
      await insert(m2, "res-1", "2026-02-28T23:45:00Z", 700, 400);
      // apt-1 consumes 300 Wh in February and generates nothing: contribution −300.
      await insert(m3, "apt-1", "2026-02-14T12:00:00Z", 300, 0);
      // March: 1 and 2 March count on the 3rd; the 3rd itself not yet.
      await insert(m1, "res-1", "2026-03-01T00:00:00Z", 50, 20);
      await insert(m1, "res-1", "2026-03-02T23:45:00Z", 5, 1);
      await insert(m1, "res-1", "2026-03-03T00:00:00Z", 1000, 1000);

      const stats = async () =>
        (
          await db.query<{
            month: string;
            controller_id: string;
            statistic_type: string;
            value_wh: string;
            through_day: string;
          }>(
            `SELECT month, controller_id, statistic_type, value_wh::text, to_char(through_day, 'YYYY-MM-DD') AS through_day
             FROM usage_statistics ORDER BY month, controller_id, statistic_type`,
          )
        ).rows.map((r) => `${r.month} ${r.controller_id} ${r.statistic_type} ${r.value_wh} ${r.through_day}`);

      // 1 March, 01:00: February in full; March has no whole day yet.
      assert.deepEqual(await computeStatistics(db, { now: at("2026-03-01T01:00:00Z") }), [
        { month: "2026-02", throughDay: "2026-02-28", controllers: 2 },
      ]);
      assert.deepEqual(await stats(), [
        "2026-02 apt-1 consumption 300 2026-02-28",
        "2026-02 apt-1 contribution -300 2026-02-28",
        "2026-02 apt-1 generation 0 2026-02-28",
        "2026-02 res-1 consumption 900 2026-02-28",
        "2026-02 res-1 contribution 1000 2026-02-28",
        "2026-02 res-1 generation 1900 2026-02-28",
      ]);
      // 3 March: March through the 2nd is 50 + 5 = 55 consumed, 20 + 1 = 21 generated.
      await computeStatistics(db, { now: at("2026-03-03T01:00:00Z") });
      assert.deepEqual((await stats()).slice(6), [
        "2026-03 apt-1 consumption 0 2026-03-02",
        "2026-03 apt-1 contribution 0 2026-03-02",
        "2026-03 apt-1 generation 0 2026-03-02",
        "2026-03 res-1 consumption 55 2026-03-02",
        "2026-03 res-1 contribution -34 2026-03-02",
        "2026-03 res-1 generation 21 2026-03-02",
      ]);
    });

    void it("exports statistics as monthly averages over a month, quarter, year and five years (hand-computed)", async () => {
      const put = (month: string, value: number, throughDay: string) =>
        db.query(
          `INSERT INTO usage_statistics (month, controller_id, statistic_type, value_wh, through_day)
           VALUES ($1, 'res-1', 'generation', $2, $3), ($1, 'res-1', 'contribution', $4, $3)`,
          [month, value, throughDay, -value],
        );
      await put("2021-06", 999_999, "2021-06-30"); // before the five years
      await put("2021-07", 5, "2021-07-31");
      await put("2025-12", 1000, "2025-12-31");
      await put("2026-04", 100, "2026-04-30");
      await put("2026-05", 201, "2026-05-20"); // computed before May ended
      await put("2026-06", 300, "2026-06-30");
      await put("2026-07", 77, "2026-07-14"); // the running month

      const exported = await exportStatistics(db, { now: at("2026-07-15T08:00:00Z") });
      assert.equal(exported.currentMonth, "2026-07");
      const pick = (controllerId: string, statistic: string) =>
        exported.averages
          .filter((a) => a.controllerId === controllerId && a.statistic === statistic)
          .map((a) => [a.window, a.from, a.to, a.monthsCovered, a.incompleteMonths, a.averageWh]);
      assert.deepEqual(pick("res-1", "generation"), [
        ["month", "2026-06", "2026-06", 1, 0, "300"],
        // (100 + 201 + 300) / 3 = 200.33… → 200
        ["quarter", "2026-04", "2026-06", 3, 1, "200"],
        // (1000 + 100 + 201 + 300) / 4 = 400.25 → 400
        ["year", "2025-07", "2026-06", 4, 1, "400"],
        // (5 + 1000 + 100 + 201 + 300) / 5 = 321.2 → 321
        ["fiveYears", "2021-07", "2026-06", 5, 1, "321"],
      ]);
      // Negative averages round the same way: (−1000 − 100 − 201 − 300) / 4 = −400.25 → −400.
      assert.equal(pick("res-1", "contribution")[2]![5], "-400");
      assert.deepEqual(pick("apt-1", "consumption")[3], ["fiveYears", "2021-07", "2026-06", 0, 0, null]);
      assert.deepEqual(exported.monthToDate, [
        {
          controllerId: "res-1",
          statistic: "contribution",
          month: "2026-07",
          valueWh: "-77",
          throughDay: "2026-07-14",
        },
        {
          controllerId: "res-1",
          statistic: "generation",
          month: "2026-07",
          valueWh: "77",
          throughDay: "2026-07-14",
        },
      ]);
    });

    void it("exports the whole CIDB as NDJSON, exactly", async () => {
      await fill("res-1", [m1, m2], 9);
      await queryAfter(9);
      await enqueueControllerCommand(db, {
        command: { command: "set_data_interval", params: { seconds: 600 } },
        now: fx.clock.now(),
      });
      let text = "";
      const counts = await exportAllData(db, (chunk) => Promise.resolve(void (text += chunk)), {
        now: fx.clock.now(),
        pageSize: 3,
      });
      const lines = text
        .trimEnd()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as { type: string; table?: string; row?: Record<string, unknown>; rows?: unknown },
        );
      assert.equal(lines[0]!.type, "header");
      assert.deepEqual(
        lines.filter((l) => l.type === "table").map((l) => l.table),
        (lines[0] as unknown as { tables: string[] }).tables,
      );
      assert.deepEqual(lines.at(-1), { type: "end", rows: counts });
      assert.equal(counts.meter_records, 8);
      assert.equal(counts.controller_commands, 2);
      const exported = lines
        .filter((l) => l.type === "row" && l.table === "meter_records")
        .map((l) => l.row!);
      const stored = await records(db);
      assert.deepEqual(
        exported.map((r) => [r.meter, r.sequence, r.signature]),
        stored.map((r) => [r.meter, r.sequence, r.signature]),
        "paged in key order, signatures as 0x hex, bigints as strings",
      );
      assert.equal(exported[0]!.start_time, stored[0]!.start_time.toISOString().replace("Z", "000Z"));
      assert.equal(exported[0]!.import_wh, "10");
      const account = lines.find((l) => l.table === "customer_accounts" && l.type === "row")!.row!;
      assert.equal(account.base_bill, "25000000");
      for (const table of Object.keys(counts)) {
        const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
        assert.equal(counts[table], Number(rows[0]!.n), table);
      }
    });

    void it("deletes records older than six months in batches, and keeps statistics", async () => {
      const insert = (meter: TestMeter, sequence: number, startIso: string) =>
        db.query(
          `INSERT INTO meter_records (meter, sequence, interval_index, start_time, end_time, import_start_wh,
             import_end_wh, export_start_wh, export_end_wh, reading_timestamp, signature, controller_id)
           VALUES ($1, $2, $2, $3::timestamptz, $3::timestamptz + interval '15 minutes', 0, 1, 0, 0, 0,
                   decode(repeat('11', 65), 'hex'), 'res-1')`,
          [meter.address, sequence, startIso],
        );
      // Six months before 2026-08-31T12:00Z is 2026-02-28T12:00Z (31 February does not exist).
      for (let i = 0; i < 5; i++) await insert(m1, i + 1, `2026-02-2${i}T00:00:00Z`);
      await insert(m1, 10, "2026-02-28T11:45:00Z");
      await insert(m1, 11, "2026-02-28T12:00:00Z");
      await db.query(
        `INSERT INTO usage_hours (controller_id, hour, records) VALUES ('res-1', '2026-02-28T11:00:00Z', 1),
           ('res-1', '2026-02-28T12:00:00Z', 1)`,
      );
      await db.query(
        `INSERT INTO rejected_records (controller_id, hour, record, reason) VALUES
           ('res-1', '2026-02-28T11:00:00Z', '{}', 'old'), ('res-1', '2026-02-28T12:00:00Z', '{}', 'kept')`,
      );
      await db.query(
        "INSERT INTO usage_statistics (month, controller_id, statistic_type, value_wh, through_day) VALUES ('2025-01', 'res-1', 'generation', 1, '2025-01-31')",
      );
      const cutoffSeconds = at("2026-02-28T12:00:00Z") / 1000;
      await db.query(
        `INSERT INTO battery_reports (meter, taken_at, batteries, signature) VALUES
           ($1, $2, '[]', '0x'), ($1, $3, '[]', '0x'), ($1, $4, '[]', '0x')`,
        [m1.address.toLowerCase(), cutoffSeconds - 900, cutoffSeconds - 1, cutoffSeconds],
      );
      const result = await applyRetention(db, { now: at("2026-08-31T12:00:00Z"), months: 6, batchSize: 2 });
      assert.deepEqual(result, {
        cutoff: "2026-02-28T12:00:00.000Z",
        meterRecords: 6,
        rejectedRecords: 1,
        usageHours: 1,
        batteryReports: 2,
      });
      const reports = await db.query<{ taken_at: string }>("SELECT taken_at::text FROM battery_reports");
      assert.deepEqual(reports.rows, [{ taken_at: String(cutoffSeconds) }]);
      assert.deepEqual(
        (await records(db)).map((r) => r.sequence),
        ["11"],
      );
      const left = await db.query<{ reason: string }>("SELECT reason FROM rejected_records");
      assert.deepEqual(left.rows, [{ reason: "kept" }]);
      const stats = await db.query("SELECT 1 FROM usage_statistics");
      assert.equal(stats.rows.length, 1);
    });

    void it("delivers queued commands in order per controller, retrying a down one and recording refusals", async () => {
      const queue = (
        command: Parameters<typeof enqueueControllerCommand>[1]["command"],
        controllerIds?: string[],
      ) => enqueueControllerCommand(db, { command, controllerIds, now: fx.clock.now() });
      await fx.controller("apt-1").down();
      await queue({ command: "set_data_interval", params: { seconds: 600 } });
      await queue({ command: "reduce_power_demand_on" }, ["res-1", "apt-1"]);
      const rates = {
        month: "2026-04",
        peakRate: "300000",
        offPeakRate: "120000",
        peakStartHour: 17,
        peakEndHour: 21,
      };
      await queue({ command: "put_billing_rates", params: rates }, ["res-1"]);
      await queue({ command: "set_grid_supply", params: { fraction: 0.5 } }, ["res-1"]);
      // A row another part of the utility queued with parameters the contract refuses.
      await db.query(
        `INSERT INTO controller_commands (controller_id, command, params, created_at)
         VALUES ('res-1', 'set_grid_supply', '{"fraction": 2}', now())`,
      );
      fx.controller("res-1").refuse = (c) =>
        c.command === "put_billing_rates" ? "rates for a past month" : undefined;

      assert.deepEqual(await fx.service.deliverCommands(), { delivered: 3, refused: 2, failed: 1 });
      assert.deepEqual(
        fx.controller("res-1").commands.map((c) => c.command),
        ["set_data_interval", "reduce_power_demand_on", "set_grid_supply"],
      );
      const rows = async (id: string) =>
        (
          await db.query<{ command: string; status: string; attempts: number; last_error: string | null }>(
            "SELECT command, status, attempts, last_error FROM controller_commands WHERE controller_id = $1 ORDER BY id",
            [id],
          )
        ).rows;
      const res1 = await rows("res-1");
      assert.equal(res1[2]!.status, "refused");
      assert.equal(
        res1[2]!.last_error,
        "controller res-1: POST /v1/commands answered 400: rates for a past month",
      );
      assert.equal(res1[4]!.status, "refused");
      assert.match(res1[4]!.last_error!, /^invalid command in the outbox: params\.fraction/);

      // apt-1 stops at its first command and waits out a backoff before trying again.
      assert.deepEqual(
        (await rows("apt-1")).map((r) => [r.status, r.attempts]),
        [
          ["pending", 1],
          ["pending", 0],
        ],
      );
      await fx.controller("apt-1").resume();
      assert.deepEqual(await fx.service.deliverCommands(), { delivered: 0, refused: 0, failed: 0 });
      fx.clock.advance(1_000);
      assert.deepEqual(await fx.service.deliverCommands(), { delivered: 2, refused: 0, failed: 0 });
      assert.deepEqual(
        fx.controller("apt-1").commands.map((c) => c.command),
        ["set_data_interval", "reduce_power_demand_on"],
      );
      assert.deepEqual(
        (await rows("apt-1")).map((r) => [r.status, r.attempts]),
        [
          ["delivered", 2],
          ["delivered", 1],
        ],
      );
    });
  });
}
