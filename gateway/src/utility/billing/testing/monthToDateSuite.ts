import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { BillingError } from "../billingError.js";
import { statementCsv } from "../billsCsv.js";
import { createBills } from "../createBills.js";
import { computeMonthToDate, type MonthToDateStatement } from "../monthToDate.js";
import { readBills, type BillLine } from "../readBills.js";
import { BillingFixture, logger } from "./billingFixture.js";
import type { BillingSuiteEngine } from "./billingSuite.js";

const RATES = { peakRate: "400000", offPeakRate: "100000", peakStartHour: 17, peakEndHour: 21 };
const lines = (ls: readonly BillLine[]) =>
  ls.map((l) => [l.kind, l.energyWh, l.ratePerKwh, l.amount, l.onchainAmount] as const);

/** Rows of the tables a bill run writes, and the base bills it changes. */
async function billingState(fx: BillingFixture) {
  const { rows } = await fx.db.query<{ runs: number; bills: number; lines: number; base: string }>(
    `SELECT (SELECT count(*)::int FROM billing_runs) AS runs, (SELECT count(*)::int FROM bills) AS bills,
            (SELECT count(*)::int FROM bill_lines) AS lines,
            (SELECT string_agg(account_number || '=' || base_bill, ',' ORDER BY account_number)
             FROM customer_accounts) AS base`,
  );
  return rows[0]!;
}

/** The month-to-date statement against a real store, the same on each engine. */
export function defineMonthToDateSuite(engine: BillingSuiteEngine): void {
  void describe(`month-to-date statement on ${engine.engine}`, () => {
    let fx: BillingFixture;
    afterEach(() => fx?.db.close());

    /** March so far: mg-1's hours up to the 10th at noon, two accounts trading P2P, rates set. */
    const open = async () => {
      fx = await BillingFixture.open(await engine.openDatabase());
      await fx.controller("mg-1");
      await fx.rates({ month: "2026-03", ...RATES });
      await fx.account("A", "mg-1", 5_000_000n, [1], 10_000_000n);
      await fx.account("B", "mg-1", 1_000_000n, [2]);
      await fx.hoursReceived("mg-1", "2026-03-01T00:00:00Z", "2026-03-10T12:00:00Z");
      await fx.record(1, "2026-03-02T18:00:00Z", 3000); // peak, 1000 Wh of it bought P2P
      await fx.record(1, "2026-03-03T09:00:00Z", 2000);
      await fx.record(2, "2026-03-02T18:00:00Z", 0, 5000); // 1000 Wh of it sold P2P
      await fx.record(2, "2026-03-03T12:00:00Z", 0, 20000);
      await fx.fill({
        seller: 2,
        buyer: 1,
        startIso: "2026-03-02T18:00:00Z",
        wh: 1000,
        delivered: 1000,
        paid: 150_000n,
      });
      fx.clock.set("2026-03-15T08:20:00Z");
      return fx;
    };
    const statementOf = (accountNumbers?: string[]) =>
      computeMonthToDate({ db: fx.db, clock: fx.clock, accountNumbers });

    void it("drafts the bill so far, up to the last hour held, and equals the month's bill once it is billed", async () => {
      await open();
      const before = await billingState(fx);
      const s = await statementOf();
      assert.deepEqual(await billingState(fx), before, "a statement writes nothing");
      assert.equal(before.runs + before.bills + before.lines, 0);

      assert.deepEqual(
        [s.draft, s.month, s.periodStart, s.asOf, s.monthEnd, s.baseBillRuleApplied, s.unbilledEarlierMonth],
        [
          true,
          "2026-03",
          "2026-03-01T00:00:00.000Z",
          "2026-03-10T12:00:00.000Z",
          "2026-04-01T00:00:00.000Z",
          false,
          null,
        ],
      );
      assert.deepEqual(s.missing, []);
      const [a, b] = s.bills;
      // A: peak 3000 - 1000 bought = 2000 Wh × 400 = 800,000; non-peak 2000 Wh × 100 = 200,000.
      assert.deepEqual(lines(a!.lines), [
        ["base_bill", null, null, "5000000", null],
        ["import_peak", "2000", "400000", "800000", null],
        ["import_off_peak", "2000", "100000", "200000", null],
        ["export_credit", "0", "100000", "0", null],
        ["p2p_purchase", "1000", null, "0", "150000"],
      ]);
      assert.equal(a!.subtotal, "6000000");
      // B: (5000 - 1000 sold) + 20000 = 24000 Wh credited × 100 = 2,400,000: below zero, and left so.
      assert.deepEqual(lines(b!.lines).slice(3), [
        ["export_credit", "24000", "100000", "-2400000", null],
        ["p2p_sale", "1000", null, "0", "150000"],
      ]);
      assert.equal(b!.subtotal, "-1400000");

      // One customer's statement is the same as their part of everyone's.
      assert.deepEqual((await statementOf(["A"])).bills, [a]);

      // March ends with nothing more used; its bill holds the same lines.
      fx.clock.set("2026-04-01T01:00:00Z");
      await fx.hoursReceived("mg-1", "2026-03-10T12:00:00Z", "2026-04-01T00:00:00Z");
      assert.equal(
        (await createBills({ db: fx.db, clock: fx.clock, logger, month: "2026-03" })).status,
        "created",
      );
      const billed = await readBills(fx.db, { month: "2026-03" });
      const fields = (x: MonthToDateStatement["bills"][number]) => [
        x.accountNumber,
        x.controllerId,
        x.baseBill,
        x.importWh,
        x.exportWh,
        x.p2pBoughtWh,
        x.p2pSoldWh,
        x.billedImportWh,
        x.creditedExportWh,
        x.subtotal,
      ];
      assert.deepEqual(billed.bills.map(fields), s.bills.map(fields));
      assert.deepEqual(billed.bills[0]!.lines, a!.lines);
      // The bill alone zeroes B's negative subtotal (and lowers next month's base bill by 25%).
      assert.deepEqual(billed.bills[1]!.lines.slice(0, -1), b!.lines);
      assert.deepEqual(lines(billed.bills[1]!.lines.slice(-1)), [
        ["negative_bill_adjustment", null, null, "1400000", null],
      ]);
      assert.equal(billed.bills[1]!.nextBaseBill, "750000");
    });

    void it("covers the period every controller of the accounts has sent, names gaps in it, and flags an unbilled earlier month", async () => {
      await open();
      await fx.rates({ month: "2026-02", ...RATES });
      await fx.controller("mg-2");
      await fx.account("C", "mg-2", 2_000_000n, [3]);
      // mg-2 has sent up to the 5th, but for one hour on the 2nd.
      await fx.hoursReceived("mg-2", "2026-03-01T00:00:00Z", "2026-03-02T10:00:00Z");
      await fx.hoursReceived("mg-2", "2026-03-02T11:00:00Z", "2026-03-05T00:00:00Z");
      await fx.record(3, "2026-03-04T10:00:00Z", 1000);

      const c = await statementOf(["C"]);
      assert.equal(c.asOf, "2026-03-05T00:00:00.000Z");
      assert.equal(c.unbilledEarlierMonth, "2026-02");
      assert.deepEqual(c.missing, [
        {
          kind: "missing_hours",
          controllerId: "mg-2",
          hours: 1,
          first: "2026-03-02T10:00:00.000Z",
          last: "2026-03-02T10:00:00.000Z",
        },
      ]);
      assert.deepEqual(lines(c.bills[0]!.lines).slice(1, 3), [
        ["import_peak", "0", "400000", "0", null],
        ["import_off_peak", "1000", "100000", "100000", null],
      ]);
      // A's controller is complete: mg-2's gap is not A's business, but everyone shares one period.
      assert.deepEqual((await statementOf(["A"])).missing, []);
      assert.equal((await statementOf()).asOf, "2026-03-05T00:00:00.000Z");

      // A controller with no hour of the month yet: the period is empty, the base bill stands alone.
      await fx.controller("mg-3");
      await fx.account("D", "mg-3", 3_000_000n, [4]);
      const d = await statementOf(["D"]);
      assert.equal(d.asOf, d.periodStart);
      assert.deepEqual(d.missing, []);
      assert.equal(d.bills[0]!.subtotal, "3000000");

      assert.deepEqual((await statementOf([])).bills, []);
    });

    void it("writes the statement as the bills' CSV, every row marked a draft", async () => {
      await open();
      const text = statementCsv(await statementOf(["B"]));
      const rows = text.trimEnd().split("\r\n");
      assert.equal(
        rows[0],
        "month,account_number,controller_id,line,kind,description,energy_wh,rate_per_kwh,amount,onchain_amount," +
          "bill_total_due,next_base_bill,forced,draft,as_of",
      );
      assert.equal(
        rows[4],
        '2026-03,B,mg-1,3,export_credit,"Energy exported, less P2P sales, credited at the non-peak rate",24000,' +
          "100000,-2400000,,-1400000,,false,true,2026-03-10T12:00:00.000Z",
      );
      assert.equal(rows.length, 6);
    });

    void it("refuses a month without rates", async () => {
      await open();
      fx.clock.set("2026-05-02T00:00:00Z");
      await assert.rejects(
        statementOf(),
        (e: unknown) => e instanceof BillingError && e.refusal === "no_rates",
      );
    });
  });
}
