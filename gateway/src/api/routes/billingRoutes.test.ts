import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { CUSTOMER_SCOPE, customerAccessTypes, gatewayDomain, mutableTypes } from "@gridmesh/contracts";
import { Wallet } from "ethers";

import { createDatabase } from "../../store/index.js";
import { BillingFixture, logger, meterAddress } from "../../utility/billing/testing/billingFixture.js";
import {
  billedMonthSchema,
  customerBillsSchema,
  billingRatesListSchema,
  billingRatesSchema,
  billingRunResultSchema,
  customerStatementSchema,
  monthToDateStatementSchema,
} from "../billingSchemas.js";
import { CHAIN_ID, OPERATOR_TOKEN, startApiServer, type ApiServer } from "../testing/apiTestContext.js";

describe("billing API", () => {
  let fx: BillingFixture;
  let api: ApiServer;

  before(async () => {
    fx = await BillingFixture.open(await createDatabase({ database: { kind: "memory" }, logger }));
    await fx.controller("mg-1");
    await fx.account("A-1", "mg-1", 1_000_000n, [1]);
    await fx.account("B-2", "mg-1", 1_000_000n, [2]);
    await fx.record(1, "2026-03-10T18:00:00Z", 2000);
    // Every March hour but one was received.
    await fx.hoursReceived("mg-1", "2026-03-01T00:00:00Z", "2026-03-31T23:00:00Z");
    api = await startApiServer(fx.db, { operator: true, clock: fx.clock });
  });
  after(async () => {
    await api.close();
    await fx.db.close();
  });

  const call = async (path: string, init: RequestInit = {}, token: string | null = OPERATOR_TOKEN) => {
    const res = await api.call(path, {
      ...init,
      headers: {
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
    });
    const json = res.headers.get("content-type")?.startsWith("application/json") ? res.body : undefined;
    return { status: res.status, headers: res.headers, text: res.text, json };
  };
  const post = (path: string, body: unknown) => call(path, { method: "POST", body: JSON.stringify(body) });

  const march = {
    month: "2026-03",
    peakRate: "400000",
    offPeakRate: "100000",
    peakStartHour: 17,
    peakEndHour: 21,
  };

  void it("sets and lists a month's rates, refusing bad ones by field", async () => {
    const set = await post("/v1/operator/billing/rates", march);
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(billingRatesSchema.parse(set.json), {
      ...march,
      timeZone: "UTC",
      setAt: "2026-06-01T00:00:00.000Z",
    });
    const listed = await call("/v1/operator/billing/rates");
    assert.deepEqual(
      billingRatesListSchema.parse(listed.json).items.map((r) => r.month),
      ["2026-03"],
    );

    const bad = await post("/v1/operator/billing/rates", { ...march, peakEndHour: 17, peakRate: "1.5" });
    assert.equal(bad.status, 400);
    assert.deepEqual((bad.json as { issues: { path: string }[] }).issues.map((i) => i.path).sort(), [
      "body.peakEndHour",
      "body.peakRate",
    ]);
    const zone = await post("/v1/operator/billing/rates", { ...march, timeZone: "Mars/Olympus_Mons" });
    assert.equal(zone.status, 400);
    assert.match(zone.text, /unknown time zone \\"Mars\/Olympus_Mons\\"/);
  });

  void it("refuses to bill while an hour is missing, saying which, then bills when forced with a reason", async () => {
    const refused = await post("/v1/operator/billing/months/2026-03/bills", {});
    assert.equal(refused.status, 409);
    assert.match(
      refused.text,
      /2026-03 cannot be billed while data is missing: controller mg-1: 1 hour\(s\) not received \(2026-03-31T23:00:00.000Z/,
    );
    const noReason = await post("/v1/operator/billing/months/2026-03/bills", { force: true });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /body.reason: is required with force/);

    const forced = await post("/v1/operator/billing/months/2026-03/bills", {
      force: true,
      reason: "meter swap",
    });
    assert.equal(forced.status, 200, forced.text);
    const result = billingRunResultSchema.parse(forced.json);
    assert.deepEqual(
      [result.status, result.run.accounts, result.run.forced, result.run.forceReason],
      ["created", 2, true, "meter swap"],
    );
    // A: 1,000,000 + 2000 Wh × 400 = 1,800,000; B: 1,000,000.
    assert.equal(result.run.totalDue, "2800000");

    const again = await post("/v1/operator/billing/months/2026-03/bills", {});
    assert.deepEqual(billingRunResultSchema.parse(again.json), { ...result, status: "already_billed" });
    const early = await post("/v1/operator/billing/months/2026-06/bills", {});
    assert.equal(early.status, 409);
    assert.match(early.text, /2026-06 cannot be billed before 2026-04/);
  });

  void it("exports one account's or every account's bills as JSON and as CSV", async () => {
    const all = await call("/v1/operator/billing/months/2026-03/bills");
    assert.equal(all.status, 200);
    const billed = billedMonthSchema.parse(all.json);
    assert.deepEqual(
      billed.bills.map((b) => [b.accountNumber, b.totalDue]),
      [
        ["A-1", "1800000"],
        ["B-2", "1000000"],
      ],
    );
    const one = billedMonthSchema.parse(
      (await call("/v1/operator/billing/months/2026-03/bills?account=B-2")).json,
    );
    assert.deepEqual(
      one.bills.map((b) => b.accountNumber),
      ["B-2"],
    );

    const csv = await call("/v1/operator/billing/months/2026-03/bills.csv?account=A-1");
    assert.equal(csv.status, 200);
    assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.equal(csv.headers.get("content-disposition"), 'attachment; filename="bills-2026-03.csv"');
    const rows = csv.text.trimEnd().split("\r\n");
    assert.equal(rows.length, 1 + billed.bills[0]!.lines.length);
    assert.equal(
      rows[2],
      '2026-03,A-1,mg-1,1,import_peak,"Energy imported in peak hours (17:00-21:00 UTC), less P2P purchases",' +
        "2000,400000,800000,,1800000,1000000,true",
    );
  });

  void it("answers 404 for a month or account without bills, 400 for a bad month, 401 without the token", async () => {
    const unbilled = await call("/v1/operator/billing/months/2026-04/bills");
    assert.deepEqual([unbilled.status, unbilled.json], [404, { error: "2026-04 has not been billed" }]);
    const csv = await call("/v1/operator/billing/months/2026-04/bills.csv");
    assert.deepEqual([csv.status, csv.json], [404, { error: "2026-04 has not been billed" }]);
    const stranger = await call("/v1/operator/billing/months/2026-03/bills?account=Z-9");
    assert.deepEqual(
      [stranger.status, stranger.json],
      [404, { error: "account Z-9 has no bill for 2026-03" }],
    );
    const badMonth = await call("/v1/operator/billing/months/2026-13/bills.csv");
    assert.equal(badMonth.status, 400);
    assert.match(badMonth.text, /path.month: must be a month as YYYY-MM/);
    assert.equal((await call("/v1/operator/billing/months/2026-03/bills", {}, null)).status, 401);
  });

  void describe("a customer's own bills, behind a token signed in the customer's wallet", () => {
    // A-1's meter (1) is Alice's in the registry; B-2's is someone else's.
    const alice = new Wallet(Wallet.createRandom().privateKey);
    const mallory = new Wallet(Wallet.createRandom().privateKey);
    before(async () => {
      await fx.db.query(
        `INSERT INTO devices (meter, owner, device_id, status) VALUES
           ($1, $2, '0x' || repeat('a1', 32), 'active'), ($3, $4, '0x' || repeat('b2', 32), 'active')`,
        [meterAddress(1), alice.address.toLowerCase(), meterAddress(2), mallory.address.toLowerCase()],
      );
    });

    const token = async (
      signer: Wallet,
      {
        account = signer.address,
        expires = Math.floor(Date.now() / 1000) + 3600,
        scope = CUSTOMER_SCOPE,
      } = {},
    ) => {
      const signature = await signer.signTypedData(
        gatewayDomain(CHAIN_ID),
        mutableTypes(customerAccessTypes),
        {
          account,
          scope,
          expires,
        },
      );
      return Buffer.from(JSON.stringify({ account, expires, signature })).toString("base64url");
    };
    const asCustomer = (path: string, t: string | null) =>
      api.call(path, t === null ? {} : { headers: { authorization: `GridMesh-Wallet ${t}` } });

    void it("answers only the bills of accounts whose meters the wallet owns, as JSON and CSV", async () => {
      const res = await asCustomer("/v1/customer/bills", await token(alice));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = customerBillsSchema.parse(res.body);
      assert.equal(body.account, alice.address.toLowerCase());
      assert.deepEqual(body.accounts, ["A-1"]);
      assert.deepEqual(
        body.months.map((m) => [m.month, m.bills.map((b: { accountNumber: string }) => b.accountNumber)]),
        [["2026-03", ["A-1"]]],
      );
      // The month's figures are the customer's own, not the whole run's (two accounts were billed).
      assert.equal(body.months[0]!.totalDue, body.months[0]!.bills[0]!.totalDue);
      assert.equal(body.months[0]!.accounts, 1);
      const csv = await asCustomer("/v1/customer/months/2026-03/bills.csv", await token(alice));
      assert.equal(csv.status, 200);
      assert.equal(csv.headers.get("content-disposition"), 'attachment; filename="bills-2026-03.csv"');
      const rows = csv.text.trimEnd().split("\r\n").slice(1);
      assert.ok(rows.length > 0 && rows.every((r) => r.startsWith("2026-03,A-1,")), csv.text);
      const none = await asCustomer("/v1/customer/months/2026-04/bills.csv", await token(alice));
      assert.deepEqual([none.status, none.body], [404, { error: "you have no bill for 2026-04" }]);
    });

    void it("refuses a missing, forged, borrowed, expired or too long-lived token, saying why", async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string | null, RegExp][] = [
        [null, /account endpoints need Authorization: GridMesh-Wallet/],
        ["not-base64-json", /malformed/],
        // Mallory signs a token naming Alice's account.
        [await token(mallory, { account: alice.address }), /not signed by the account it names/],
        // A signature for another purpose does not open the bills.
        [await token(alice, { scope: "something else" }), /not signed by the account it names/],
        [await token(alice, { expires: now - 1 }), /has expired/],
        [await token(alice, { expires: now + 2 * 86_400 }), /may live at most 86400 s/],
      ];
      for (const [t, message] of cases) {
        const res = await asCustomer("/v1/customer/bills", t);
        assert.equal(res.status, 401, `${String(t)}: ${res.text}`);
        assert.match((res.body as { error: string }).error, message);
        assert.match(res.headers.get("www-authenticate") ?? "", /GridMesh-Wallet/);
      }
    });

    void describe("the month-to-date statement", () => {
      // April so far: mg-1's hours up to the 10th at 06:00; Alice's meter bought 500 Wh from B-2's.
      before(async () => {
        fx.clock.set("2026-04-10T06:30:00Z");
        await fx.rates({ ...march, month: "2026-04" });
        await fx.hoursReceived("mg-1", "2026-04-01T00:00:00Z", "2026-04-10T06:00:00Z");
        await fx.record(1, "2026-04-02T18:00:00Z", 3000);
        await fx.record(2, "2026-04-02T18:00:00Z", 0, 2000);
        await fx.fill({
          seller: 2,
          buyer: 1,
          startIso: "2026-04-02T18:00:00Z",
          wh: 500,
          delivered: 500,
          paid: 75_000n,
        });
      });
      const stored = async () =>
        (
          await fx.db.query(
            `SELECT (SELECT count(*)::int FROM billing_runs) AS runs, (SELECT count(*)::int FROM bills) AS bills,
                    (SELECT count(*)::int FROM bill_lines) AS lines,
                    (SELECT string_agg(account_number || '=' || base_bill, ',' ORDER BY account_number)
                     FROM customer_accounts) AS base`,
          )
        ).rows[0];

      void it("drafts the wallet's own accounts' bill so far, as JSON and CSV, storing nothing", async () => {
        const before = await stored();
        const res = await asCustomer("/v1/customer/statement", await token(alice));
        assert.equal(res.status, 200, res.text);
        const { account, accounts, statement } = customerStatementSchema.parse(res.body);
        assert.deepEqual([account, accounts], [alice.address.toLowerCase(), ["A-1"]]);
        assert.ok(statement !== null);
        assert.deepEqual(
          [
            statement.draft,
            statement.month,
            statement.periodStart,
            statement.asOf,
            statement.baseBillRuleApplied,
          ],
          [true, "2026-04", "2026-04-01T00:00:00.000Z", "2026-04-10T06:00:00.000Z", false],
        );
        assert.match(statement.note, /±25% base-bill rule/);
        assert.deepEqual(
          statement.bills.map((b) => [b.accountNumber, b.subtotal]),
          [["A-1", "2000000"]],
        );
        // 3000 Wh in peak hours less 500 Wh bought P2P: 2500 Wh × 400 = 1,000,000 on a 1,000,000 base.
        assert.deepEqual(
          statement.bills[0]!.lines.map((l) => [l.kind, l.energyWh, l.amount, l.onchainAmount]),
          [
            ["base_bill", null, "1000000", null],
            ["import_peak", "2500", "1000000", null],
            ["import_off_peak", "0", "0", null],
            ["export_credit", "0", "0", null],
            ["p2p_purchase", "500", "0", "75000"],
          ],
        );

        const csv = await asCustomer("/v1/customer/statement.csv", await token(alice));
        assert.equal(csv.status, 200, csv.text);
        assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
        assert.equal(
          csv.headers.get("content-disposition"),
          'attachment; filename="statement-2026-04-draft.csv"',
        );
        const [header, ...rows] = csv.text.trimEnd().split("\r\n");
        assert.match(header!, /,bill_total_due,next_base_bill,forced,draft,as_of$/);
        assert.equal(rows.length, 5);
        assert.ok(
          rows.every(
            (r) =>
              r.startsWith("2026-04,A-1,") && r.endsWith(",2000000,,false,true,2026-04-10T06:00:00.000Z"),
          ),
          csv.text,
        );
        assert.deepEqual(await stored(), before);
      });

      void it("gives a wallet without meters an empty statement, and a 404 for its CSV", async () => {
        const stranger = new Wallet(Wallet.createRandom().privateKey);
        const res = await asCustomer("/v1/customer/statement", await token(stranger));
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(customerStatementSchema.parse(res.body), {
          account: stranger.address.toLowerCase(),
          accounts: [],
          statement: null,
        });
        const csv = await asCustomer("/v1/customer/statement.csv", await token(stranger));
        assert.equal(csv.status, 404);
        assert.match(
          (csv.body as { error: string }).error,
          /none of your meters belongs to a customer account/,
        );
      });

      void it("refuses a missing or forged token and unknown parameters, and answers 409 while the month has no rates", async () => {
        for (const path of ["/v1/customer/statement", "/v1/customer/statement.csv"]) {
          assert.equal((await asCustomer(path, null)).status, 401);
          const forged = await asCustomer(path, await token(mallory, { account: alice.address }));
          assert.equal(forged.status, 401);
          const extra = await asCustomer(`${path}?month=2026-03`, await token(alice));
          assert.equal(extra.status, 400, extra.text);
          assert.match(extra.text, /query/);
        }
        const now = fx.clock.ms;
        try {
          fx.clock.set("2026-05-03T00:00:00Z");
          const res = await asCustomer("/v1/customer/statement", await token(alice));
          assert.deepEqual(
            [res.status, res.body],
            [409, { error: "no billing rates are set for 2026-05 yet" }],
          );
        } finally {
          fx.clock.ms = now;
        }
      });

      void it("gives the operator every account's statement, or one account's, as JSON and CSV", async () => {
        const before = await stored();
        const all = monthToDateStatementSchema.parse((await call("/v1/operator/billing/statement")).json);
        assert.deepEqual(
          all.bills.map((b) => [b.accountNumber, b.subtotal]),
          [
            ["A-1", "2000000"],
            // B-2: 2000 Wh exported less 500 Wh sold P2P, credited 1500 × 100 = 150,000.
            ["B-2", "850000"],
          ],
        );
        const one = await call("/v1/operator/billing/statement?account=B-2");
        assert.deepEqual(
          monthToDateStatementSchema.parse(one.json).bills.map((b) => b.accountNumber),
          ["B-2"],
        );
        const csv = await call("/v1/operator/billing/statement.csv?account=B-2");
        assert.equal(csv.status, 200);
        assert.ok(
          csv.text
            .trimEnd()
            .split("\r\n")
            .slice(1)
            .every((r) => r.startsWith("2026-04,B-2,")),
        );
        assert.equal((await call("/v1/operator/billing/statement?account=no%20such")).status, 400);
        assert.equal((await call("/v1/operator/billing/statement", {}, null)).status, 401);
        assert.deepEqual(await stored(), before);
      });
    });
  });
});
