import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { StoreError } from "../../../common/errors.js";
import type { Database } from "../../../store/index.js";
import { BillingError } from "../billingError.js";
import { billsCsv } from "../billsCsv.js";
import { createBills, type CreateBillsResult } from "../createBills.js";
import { createDueBills } from "../createDueBills.js";
import { readBills, type Bill } from "../readBills.js";
import { sendBillingRates } from "../sendBillingRates.js";
import { BillingFixture, logger } from "./billingFixture.js";

export interface BillingSuiteEngine {
  engine: Database["engine"];
  /** A new, empty database. */
  openDatabase(): Promise<Database>;
}

const MARCH = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const APRIL = { start: "2026-04-01T00:00:00Z", end: "2026-05-01T00:00:00Z" };
const MAY = { start: "2026-05-01T00:00:00Z", end: "2026-06-01T00:00:00Z" };
/** Token base units per kWh; peak hours 17:00-21:00 unless a test says otherwise. */
const RATES = { peakRate: "400000", offPeakRate: "100000", peakStartHour: 17, peakEndHour: 21 };

/** A bill's lines as [kind, energy Wh, rate, amount, on-chain amount], the shape the tests compare. */
const linesOf = (bill: Bill) =>
  bill.lines.map((l) => [l.kind, l.energyWh, l.ratePerKwh, l.amount, l.onchainAmount] as const);

const sum = (values: readonly string[]) => values.reduce((total, v) => total + BigInt(v), 0n);

/**
 * Create_bills against a real store with hand-computed examples, the same on each engine. Rates are
 * token base units per kWh, so a line's amount is Wh × rate / 1000.
 */
export function defineBillingSuite(engine: BillingSuiteEngine): void {
  void describe(`billing on ${engine.engine}`, () => {
    let fx: BillingFixture;
    afterEach(() => fx?.db.close());

    /** A fixture with controller mg-1 whose March hours were all received, and March's rates. */
    const open = async (settings: { intervalSeconds?: number } = {}) => {
      fx = await BillingFixture.open(await engine.openDatabase(), settings);
      await fx.controller("mg-1");
      await fx.hoursReceived("mg-1", MARCH.start, MARCH.end);
      await fx.rates({ month: "2026-03", ...RATES });
      return fx;
    };
    const bill = (month: string, force?: { reason: string }) =>
      createBills({ db: fx.db, clock: fx.clock, logger, month, force });
    const billOf = async (month: string, account: string) =>
      (await readBills(fx.db, { month, accountNumber: account })).bills[0]!;
    const created = (result: CreateBillsResult) => {
      assert.equal(result.status, "created", JSON.stringify(result));
      return result;
    };

    void it("charges import by the time of day: peak hours at the peak rate, the others at the non-peak rate", async () => {
      await open();
      await fx.account("A", "mg-1", 20_000_000n, [1]);
      await fx.record(1, "2026-03-10T17:00:00Z", 2000); // peak
      await fx.record(1, "2026-03-10T20:45:00Z", 1000); // the last peak quarter
      await fx.record(1, "2026-03-10T21:00:00Z", 500); // peak hours end at 21:00
      await fx.record(1, "2026-03-10T09:00:00Z", 3000);
      await fx.record(1, "2026-02-28T23:45:00Z", 9999); // February
      await fx.record(1, "2026-04-01T00:00:00Z", 9999); // April
      created(await bill("2026-03"));

      const a = await billOf("2026-03", "A");
      // peak 2000 + 1000 = 3000 Wh × 400000 / 1000 = 1,200,000; non-peak 500 + 3000 = 3500 Wh × 100 = 350,000
      assert.deepEqual(linesOf(a), [
        ["base_bill", null, null, "20000000", null],
        ["import_peak", "3000", "400000", "1200000", null],
        ["import_off_peak", "3500", "100000", "350000", null],
        ["export_credit", "0", "100000", "0", null],
      ]);
      // 20,000,000 + 1,200,000 + 350,000; positive, so the base bill would rise 25%, but it is at its cap.
      assert.equal(a.subtotal, "21550000");
      assert.equal(a.totalDue, "21550000");
      assert.equal(a.importWh, "6500");
      assert.deepEqual([a.baseBillRule, a.nextBaseBill], ["capped", "20000000"]);
      assert.equal(await fx.baseBill("A"), "20000000");
      assert.match(a.lines[1]!.description, /17:00-21:00 UTC/);
    });

    void it("credits exported energy at the non-peak rate, in peak hours too", async () => {
      await open();
      await fx.account("A", "mg-1", 5_000_000n, [1], 10_000_000n);
      await fx.record(1, "2026-03-10T17:00:00Z", 1000, 4000);
      await fx.record(1, "2026-03-10T09:00:00Z", 0, 2000);
      created(await bill("2026-03"));

      const a = await billOf("2026-03", "A");
      // export 4000 + 2000 = 6000 Wh × 100000 / 1000 = 600,000 credited (not 4000 Wh at the peak rate)
      assert.deepEqual(linesOf(a).slice(1), [
        ["import_peak", "1000", "400000", "400000", null],
        ["import_off_peak", "0", "100000", "0", null],
        ["export_credit", "6000", "100000", "-600000", null],
      ]);
      // 5,000,000 + 400,000 - 600,000 = 4,800,000 > 0: base bill 5,000,000 × 1.25 = 6,250,000 (cap 10,000,000)
      assert.deepEqual(
        [a.subtotal, a.totalDue, a.nextBaseBill, a.baseBillRule],
        ["4800000", "4800000", "6250000", "increased"],
      );
      assert.equal(await fx.baseBill("A"), "6250000");
    });

    void it("prorates a record straddling a peak boundary by time, rounding watt-hours and amounts halves up", async () => {
      // Two-hour intervals: the record 16:00-18:00 is half outside and half inside peak hours.
      await open({ intervalSeconds: 7200 });
      await fx.rates({ month: "2026-03", ...RATES, offPeakRate: "333" });
      await fx.account("A", "mg-1", 0n, [1]);
      await fx.account("B", "mg-1", 0n, [2]);
      await fx.record(1, "2026-03-10T16:00:00Z", 3001);
      // Off the interval grid: 20:50-21:20, ten of its thirty minutes in peak hours.
      await fx.recordBetween(2, "2026-03-10T20:50:00Z", "2026-03-10T21:20:00Z", 900);
      created(await bill("2026-03"));

      // A: peak 3001 × 3600 / 7200 = 1500.5 → 1501 Wh, non-peak the other 1500 Wh.
      //    1501 × 400000 / 1000 = 600,400; 1500 × 333 / 1000 = 499.5 → 500.
      assert.deepEqual(linesOf(await billOf("2026-03", "A")).slice(1, 3), [
        ["import_peak", "1501", "400000", "600400", null],
        ["import_off_peak", "1500", "333", "500", null],
      ]);
      // B: peak 900 × 600 / 1800 = 300 Wh → 120,000; non-peak 600 Wh × 333 / 1000 = 199.8 → 200.
      assert.deepEqual(linesOf(await billOf("2026-03", "B")).slice(1, 3), [
        ["import_peak", "300", "400000", "120000", null],
        ["import_off_peak", "600", "333", "200", null],
      ]);
    });

    void it("splits a record straddling the month's end between the two months, adding up to the record", async () => {
      await open();
      await fx.hoursReceived("mg-1", APRIL.start, APRIL.end);
      await fx.rates({ month: "2026-04", ...RATES });
      await fx.account("A", "mg-1", 1_000_000n, [1], 2_000_000n);
      await fx.recordBetween(1, "2026-03-31T23:30:00Z", "2026-04-01T00:30:00Z", 1001);
      created(await bill("2026-03"));
      created(await bill("2026-04"));

      // March holds 1001 × 1800 / 3600 = 500.5 → 501 Wh; April the other 500 Wh. Non-peak: 100 per kWh.
      const march = await billOf("2026-03", "A");
      const april = await billOf("2026-04", "A");
      assert.deepEqual(linesOf(march)[2], ["import_off_peak", "501", "100000", "50100", null]);
      assert.deepEqual(linesOf(april)[2], ["import_off_peak", "500", "100000", "50000", null]);
      assert.equal(BigInt(march.importWh) + BigInt(april.importWh), 1001n);
      // March: 1,000,000 + 50,100 > 0 → base 1,250,000; April: 1,250,000 + 50,000 → 1,562,500.
      assert.deepEqual(
        [march.nextBaseBill, april.baseBill, april.totalDue, april.nextBaseBill],
        ["1250000", "1250000", "1300000", "1562500"],
      );
    });

    void it("zeroes a negative bill and cuts the base bill 25%, then raises it 25% a month up to its initial value", async () => {
      await open();
      for (const [month, period] of [
        ["2026-04", APRIL],
        ["2026-05", MAY],
      ] as const) {
        await fx.hoursReceived("mg-1", period.start, period.end);
        await fx.rates({ month, ...RATES });
      }
      await fx.account("A", "mg-1", 1_000_001n, [1]);
      await fx.record(1, "2026-03-10T12:00:00Z", 0, 50_000);

      created(await bill("2026-03"));
      const march = await billOf("2026-03", "A");
      // 50,000 Wh exported × 100000 / 1000 = 5,000,000 credit; 1,000,001 - 5,000,000 = -3,999,999.
      // The bill is 0 (a line cancels the negative subtotal) and the base bill becomes
      // 1,000,001 × 0.75 = 750,000.75, rounded down to 750,000.
      assert.deepEqual(linesOf(march), [
        ["base_bill", null, null, "1000001", null],
        ["import_peak", "0", "400000", "0", null],
        ["import_off_peak", "0", "100000", "0", null],
        ["export_credit", "50000", "100000", "-5000000", null],
        ["negative_bill_adjustment", null, null, "3999999", null],
      ]);
      assert.equal(sum(march.lines.map((l) => l.amount)), 0n);
      assert.deepEqual(
        [march.subtotal, march.totalDue, march.baseBillRule, march.nextBaseBill],
        ["-3999999", "0", "reduced", "750000"],
      );

      // April, no usage: 750,000 due, positive → 750,000 × 1.25 = 937,500.
      created(await bill("2026-04"));
      const april = await billOf("2026-04", "A");
      assert.deepEqual(
        [april.baseBill, april.totalDue, april.baseBillRule, april.nextBaseBill],
        ["750000", "750000", "increased", "937500"],
      );
      // May: 937,500 × 1.25 = 1,171,875 exceeds the initial 1,000,001, which caps it.
      created(await bill("2026-05"));
      const may = await billOf("2026-05", "A");
      assert.deepEqual([may.totalDue, may.baseBillRule, may.nextBaseBill], ["937500", "capped", "1000001"]);
      assert.equal(await fx.baseBill("A"), "1000001");
    });

    void it("nets P2P per meter and interval: bought energy is not billed again nor sold energy credited again", async () => {
      await open();
      await fx.account("BUY", "mg-1", 2_000_000n, [1]);
      await fx.account("SELL", "mg-1", 2_000_000n, [2]);
      // Meter 3 sells from outside this utility's accounts.
      const peak = "2026-03-10T17:00:00Z";
      await fx.record(1, peak, 3000);
      await fx.record(2, peak, 0, 2000);
      // The buyer got 1500 Wh (of 2000 sold: a shortfall) from SELL and 500 Wh from meter 3: 2000 Wh.
      await fx.fill({ seller: 2, buyer: 1, startIso: peak, wh: 2000, delivered: 1500, paid: 300_000n });
      await fx.fill({ seller: 3, buyer: 1, startIso: peak, wh: 500, delivered: 500, paid: 100_000n });
      // Off-peak: the buyer bought 1000 Wh but imported only 400 Wh; the surplus is not carried elsewhere.
      const morning = "2026-03-11T10:00:00Z";
      await fx.record(1, morning, 400);
      await fx.record(2, morning, 0, 1000);
      await fx.fill({ seller: 2, buyer: 1, startIso: morning, wh: 1000, delivered: 1000, paid: 200_000n });
      await fx.record(1, "2026-03-12T10:00:00Z", 700);
      created(await bill("2026-03"));

      // BUY: peak 3000 - 2000 = 1000 Wh → 400,000; morning max(400 - 1000, 0) = 0; 700 Wh non-peak → 70,000.
      const buyer = await billOf("2026-03", "BUY");
      assert.deepEqual(linesOf(buyer), [
        ["base_bill", null, null, "2000000", null],
        ["import_peak", "1000", "400000", "400000", null],
        ["import_off_peak", "700", "100000", "70000", null],
        ["export_credit", "0", "100000", "0", null],
        // 1500 + 500 + 1000 Wh delivered, 300,000 + 100,000 + 200,000 paid on chain.
        ["p2p_purchase", "3000", null, "0", "600000"],
      ]);
      assert.deepEqual(
        [buyer.importWh, buyer.billedImportWh, buyer.p2pBoughtWh, buyer.totalDue],
        ["4100", "1700", "3000", "2470000"],
      );
      // SELL: exported 2000 Wh and sold 1500 → 500 Wh credited (50,000); morning 1000 - 1000 = 0.
      const seller = await billOf("2026-03", "SELL");
      assert.deepEqual(linesOf(seller).slice(3), [
        ["export_credit", "500", "100000", "-50000", null],
        ["p2p_sale", "2500", null, "0", "500000"],
      ]);
      assert.deepEqual(
        [seller.exportWh, seller.creditedExportWh, seller.totalDue],
        ["3000", "500", "1950000"],
      );
    });

    void it("applies a change of peak hours from the month it is set for, and sends the new hours", async () => {
      await open();
      await fx.controller("mg-2");
      await fx.hoursReceived("mg-1", APRIL.start, APRIL.end);
      await fx.rates({ month: "2026-04", ...RATES, peakStartHour: 8, peakEndHour: 12 });
      await fx.account("A", "mg-1", 0n, [1]);
      for (const day of ["2026-03-10", "2026-04-10"]) {
        await fx.record(1, `${day}T10:00:00Z`, 1000);
        await fx.record(1, `${day}T18:00:00Z`, 3000);
      }
      created(await bill("2026-03"));
      created(await bill("2026-04"));

      // March (17-21): peak 3000 Wh → 1,200,000, non-peak 1000 Wh → 100,000.
      // April (8-12): peak 1000 Wh → 400,000, non-peak 3000 Wh → 300,000.
      assert.deepEqual(linesOf(await billOf("2026-03", "A")).slice(1, 3), [
        ["import_peak", "3000", "400000", "1200000", null],
        ["import_off_peak", "1000", "100000", "100000", null],
      ]);
      const april = await billOf("2026-04", "A");
      assert.deepEqual(linesOf(april).slice(1, 3), [
        ["import_peak", "1000", "400000", "400000", null],
        ["import_off_peak", "3000", "100000", "300000", null],
      ]);
      assert.match(april.lines[1]!.description, /08:00-12:00 UTC/);

      assert.deepEqual(await sendBillingRates({ db: fx.db, clock: fx.clock, month: "2026-04" }), {
        month: "2026-04",
        queued: 2,
      });
      const { rows } = await fx.db.query<{ controller_id: string; command: string; params: unknown }>(
        "SELECT controller_id, command, params FROM controller_commands ORDER BY controller_id",
      );
      const params = { month: "2026-04", ...RATES, peakStartHour: 8, peakEndHour: 12 };
      assert.deepEqual(rows, [
        { controller_id: "mg-1", command: "put_billing_rates", params },
        { controller_id: "mg-2", command: "put_billing_rates", params },
      ]);
    });

    void it("places peak hours and the month in the rates' time zone, through a daylight-saving change", async () => {
      await open();
      // New York: EST (UTC-5) until 8 March 2026, then EDT (UTC-4). March runs 05:00Z to 04:00Z.
      await fx.rates({ month: "2026-03", ...RATES, timeZone: "America/New_York" });
      await fx.hoursReceived("mg-1", "2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z");
      await fx.account("A", "mg-1", 0n, [1]);
      await fx.record(1, "2026-03-01T03:00:00Z", 9999); // 28 February, 22:00 local
      await fx.record(1, "2026-03-05T22:00:00Z", 1000); // 17:00 EST: peak
      await fx.record(1, "2026-03-20T22:00:00Z", 1000); // 18:00 EDT: peak
      await fx.record(1, "2026-03-20T13:00:00Z", 500); // 09:00 EDT
      await fx.record(1, "2026-04-01T03:00:00Z", 200); // 31 March, 23:00 EDT
      const { run } = created(await bill("2026-03"));

      assert.deepEqual(
        [run.periodStart.toISOString(), run.periodEnd.toISOString()],
        ["2026-03-01T05:00:00.000Z", "2026-04-01T04:00:00.000Z"],
      );
      // peak 2000 Wh → 800,000; non-peak 500 + 200 = 700 Wh → 70,000.
      assert.deepEqual(linesOf(await billOf("2026-03", "A")).slice(1, 3), [
        ["import_peak", "2000", "400000", "800000", null],
        ["import_off_peak", "700", "100000", "70000", null],
      ]);
    });

    void it("refuses to bill while data is missing, says what, and bills when the operator forces it", async () => {
      await open();
      await fx.controller("mg-2");
      await fx.account("A", "mg-1", 1_000_000n, [1], 2_000_000n);
      await fx.account("B", "mg-1", 1_000_000n, [2]);
      // mg-2 serves no account: its hours do not matter to bills.
      await fx.record(1, "2026-03-10T09:00:00Z", 1000);
      await fx.db.query(
        "DELETE FROM usage_hours WHERE controller_id = 'mg-1' AND hour = '2026-03-15T10:00:00Z'",
      );
      await fx.db.query(
        `INSERT INTO failed_requests (controller_id, hour, reason, first_failed_at, last_failed_at)
         VALUES ('mg-1', '2026-03-20T05:00:00Z', 'timeout', now(), now())`,
      );
      await fx.fill({
        seller: 2,
        buyer: 1,
        startIso: "2026-03-10T09:00:00Z",
        wh: 500,
        delivered: null,
        paid: null,
      });

      const refused = await bill("2026-03");
      assert.deepEqual(refused, {
        status: "incomplete",
        month: "2026-03",
        missing: [
          {
            kind: "failed_requests",
            controllerId: "mg-1",
            hours: 1,
            first: "2026-03-20T05:00:00.000Z",
            last: "2026-03-20T05:00:00.000Z",
          },
          {
            kind: "missing_hours",
            controllerId: "mg-1",
            hours: 1,
            first: "2026-03-15T10:00:00.000Z",
            last: "2026-03-15T10:00:00.000Z",
          },
          {
            kind: "unsettled_p2p",
            deliveries: 1,
            firstInterval: String(Date.parse("2026-03-10T09:00:00Z") / 900_000),
            lastInterval: String(Date.parse("2026-03-10T09:00:00Z") / 900_000),
          },
        ],
      });
      const runs = await fx.db.query("SELECT count(*)::integer AS n FROM billing_runs");
      assert.deepEqual(runs.rows, [{ n: 0 }]);
      assert.equal(await fx.baseBill("A"), "1000000");

      const forced = created(await bill("2026-03", { reason: "hour lost with the controller's disk" }));
      assert.equal(forced.run.forced, true);
      assert.equal(forced.run.forceReason, "hour lost with the controller's disk");
      assert.deepEqual(forced.run.missing, refused.status === "incomplete" ? refused.missing : []);
      const a = await billOf("2026-03", "A");
      // The unsettled fill's delivery is unknown, so nothing is netted: 1000 Wh × 100 = 100,000.
      assert.deepEqual([a.forced, a.billedImportWh, a.totalDue], [true, "1000", "1100000"]);
    });

    void it("owes no hours from before a controller joined: a fleet that joins mid-month bills that month unforced", async () => {
      await open();
      // mg-2 joined at 14:20 on the 30th; its hours from 14:00 on are all there.
      await fx.controller("mg-2", "2026-03-30T14:20:00Z");
      await fx.hoursReceived("mg-2", "2026-03-30T14:00:00Z", MARCH.end);
      await fx.account("A", "mg-1", 1_000_000n, [1]);
      await fx.account("B", "mg-2", 1_000_000n, [2]);
      await fx.record(2, "2026-03-30T15:00:00Z", 1000);
      const run = created(await bill("2026-03"));
      assert.equal(run.run.forced, false);
      assert.equal((await billOf("2026-03", "B")).billedImportWh, "1000");
    });

    void it("still counts a joined controller's lost hours, from the hour it joined", async () => {
      await open();
      await fx.controller("mg-2", "2026-03-30T14:20:00Z");
      await fx.hoursReceived("mg-2", "2026-03-30T16:00:00Z", MARCH.end);
      await fx.account("B", "mg-2", 1_000_000n, [2]);
      const refused = await bill("2026-03");
      assert.deepEqual(refused, {
        status: "incomplete",
        month: "2026-03",
        missing: [
          {
            kind: "missing_hours",
            controllerId: "mg-2",
            hours: 2,
            first: "2026-03-30T14:00:00.000Z",
            last: "2026-03-30T15:00:00.000Z",
          },
        ],
      });
    });

    void it("is idempotent: billing a billed month again changes nothing, and bills and their rates stay as made", async () => {
      await open();
      await fx.account("A", "mg-1", 1_000_000n, [1], 2_000_000n);
      await fx.record(1, "2026-03-10T17:00:00Z", 1000);
      const first = created(await bill("2026-03"));
      const bills = await readBills(fx.db, { month: "2026-03" });
      assert.equal(await fx.baseBill("A"), "1250000");

      // Late data and a later clock change nothing either.
      await fx.record(1, "2026-03-11T17:00:00Z", 5000);
      fx.clock.set("2026-07-01T00:00:00Z");
      assert.deepEqual(await bill("2026-03"), { status: "already_billed", run: first.run });
      assert.deepEqual(await readBills(fx.db, { month: "2026-03" }), bills);
      assert.equal(await fx.baseBill("A"), "1250000");

      await assert.rejects(fx.rates({ month: "2026-03", ...RATES, peakRate: "1" }), (error: unknown) => {
        assert.ok(error instanceof BillingError);
        assert.equal(error.refusal, "rates_locked");
        assert.match(error.message, /rates of 2026-03 cannot change: the month is billed/);
        return true;
      });
      for (const statement of [
        "UPDATE bills SET total_due = 0",
        "DELETE FROM bill_lines",
        "UPDATE billing_runs SET accounts = 0",
        "UPDATE billing_rates SET peak_rate = 1",
      ]) {
        await assert.rejects(fx.db.query(statement), (error: unknown) => {
          assert.ok(error instanceof StoreError, statement);
          assert.match(error.message, /immutable/);
          return true;
        });
      }
    });

    void it("bills months in order, only once they have ended and have rates", async () => {
      await open();
      await fx.account("A", "mg-1", 1_000n, [1]);
      for (const period of [APRIL, MAY]) await fx.hoursReceived("mg-1", period.start, period.end);
      const refusal = async (month: string, expected: string, message: RegExp) =>
        assert.rejects(bill(month), (error: unknown) => {
          assert.ok(error instanceof BillingError);
          assert.equal(error.refusal, expected);
          assert.match(error.message, message);
          return true;
        });

      fx.clock.set("2026-03-31T23:59:59Z");
      await refusal(
        "2026-03",
        "month_not_ended",
        /2026-03 cannot be billed before it ends at 2026-04-01T00:00:00.000Z/,
      );
      fx.clock.set("2026-06-01T00:00:00Z");
      await refusal("2026-04", "no_rates", /no billing rates are set for 2026-04/);
      await fx.rates({ month: "2026-04", ...RATES });
      await fx.rates({ month: "2026-05", ...RATES });
      created(await bill("2026-04"));
      await refusal("2026-03", "out_of_order", /2026-03 precedes 2026-04/);
      await refusal("2026-06", "out_of_order", /2026-06 cannot be billed before 2026-05/);

      // The loop's entry point bills what is due: May (March was skipped for good).
      const due = await createDueBills({ db: fx.db, clock: fx.clock, logger });
      assert.deepEqual(
        due.map((r) => [r.status, r.status === "incomplete" ? r.month : r.run.month]),
        [["created", "2026-05"]],
      );
      assert.deepEqual(await createDueBills({ db: fx.db, clock: fx.clock, logger }), []);
    });

    void it("bills every due month in order from the first with rates, stopping where data is missing", async () => {
      await open();
      await fx.account("A", "mg-1", 1_000n, [1]);
      await fx.hoursReceived("mg-1", APRIL.start, APRIL.end);
      await fx.rates({ month: "2026-04", ...RATES });
      await fx.rates({ month: "2026-05", ...RATES });
      fx.clock.set("2026-06-01T00:00:00Z");

      const due = await createDueBills({ db: fx.db, clock: fx.clock, logger });
      assert.deepEqual(
        due.map((r) => [r.status, r.status === "incomplete" ? r.month : r.run.month]),
        [
          ["created", "2026-03"],
          ["created", "2026-04"],
          ["incomplete", "2026-05"],
        ],
      );
    });

    void it("queues each month's rates for every controller once, and again when they change", async () => {
      await open();
      await fx.controller("mg-2");
      fx.clock.set("2026-03-15T12:00:00Z");
      assert.deepEqual(await sendBillingRates({ db: fx.db, clock: fx.clock }), {
        month: "2026-03",
        queued: 2,
      });
      assert.deepEqual(await sendBillingRates({ db: fx.db, clock: fx.clock }), {
        month: "2026-03",
        queued: 0,
      });
      await fx.rates({ month: "2026-03", ...RATES, peakRate: "450000" });
      assert.deepEqual(await sendBillingRates({ db: fx.db, clock: fx.clock }), {
        month: "2026-03",
        queued: 2,
      });
      await assert.rejects(
        sendBillingRates({ db: fx.db, clock: fx.clock, month: "2026-09" }),
        /no billing rates/,
      );
    });

    void it("exports a month as CSV: a header, then one row per bill line, the rows adding up to each bill", async () => {
      await open();
      await fx.account("A", "mg-1", 1_000_000n, [1]);
      await fx.account("B", "mg-1", 100n, [2]);
      await fx.record(1, "2026-03-10T17:00:00Z", 1000);
      await fx.record(2, "2026-03-10T17:00:00Z", 0, 9000);
      created(await bill("2026-03"));

      const billed = await readBills(fx.db, { month: "2026-03" });
      const csv = billsCsv(billed);
      const rows = csv.trimEnd().split("\r\n");
      assert.equal(
        rows[0],
        "month,account_number,controller_id,line,kind,description,energy_wh,rate_per_kwh,amount,onchain_amount," +
          "bill_total_due,next_base_bill,forced",
      );
      assert.equal(rows.length, 1 + billed.bills.reduce((n, b) => n + b.lines.length, 0));
      // A description with commas is quoted; B's 9000 Wh export (900,000) exceeds its 100 base bill.
      assert.equal(
        rows.find((r) => r.startsWith("2026-03,B,mg-1,3,")),
        '2026-03,B,mg-1,3,export_credit,"Energy exported, less P2P sales, credited at the non-peak rate",9000,' +
          "100000,-900000,,0,75,false",
      );
      for (const b of billed.bills) {
        const amounts = rows
          .filter((r) => r.startsWith(`2026-03,${b.accountNumber},`))
          .map((r) => {
            const fields = r.replace(/"[^"]*"/g, "").split(",");
            return fields[8]!;
          });
        assert.equal(sum(amounts), BigInt(b.totalDue), b.accountNumber);
      }
      assert.equal(billed.bills.length, 2);
    });
  });
}
