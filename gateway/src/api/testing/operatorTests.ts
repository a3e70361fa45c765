import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { clearingRetrySchema, readingRetrySchema } from "../schemas.js";
import { clearings, meters, readings } from "./apiFixtures.js";
import type { SuiteContext } from "./apiSuite.js";
import { OPERATOR_TOKEN, SERVICE_STATUS, startApiServer } from "./apiTestContext.js";

const operatorCalls: [string, string, Record<string, string>, string | undefined][] = [
  ["GET", "/v1/operator/status", {}, undefined],
  ["POST", "/v1/operator/clearings/101/retry", {}, undefined],
  [
    "POST",
    "/v1/operator/readings/retry",
    { "content-type": "application/json" },
    JSON.stringify({ meter: meters.alice, sequence: "3" }),
  ],
];

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function describeOperator(ctx: () => SuiteContext): void {
  void describe("operator endpoints", () => {
    void it("refuse requests without the token or with a wrong one, with a Bearer challenge", async () => {
      const { api } = ctx();
      const refusals: Record<string, string>[] = [
        {},
        bearer("not-the-token"),
        bearer(`${OPERATOR_TOKEN}x`),
        { authorization: `Basic ${Buffer.from(`op:${OPERATOR_TOKEN}`).toString("base64")}` },
        { authorization: OPERATOR_TOKEN },
      ];
      for (const [method, path, headers, body] of operatorCalls) {
        for (const auth of refusals) {
          const res = await api.call(path, {
            method,
            headers: { ...headers, ...auth },
            ...(body ? { body } : {}),
          });
          assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(auth)}`);
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
          assert.match((res.body as { error: string }).error, /operator/);
        }
      }
    });

    void it("GET /v1/operator/status answers the service's status with the right token", async () => {
      const res = await ctx().api.call("/v1/operator/status", { headers: bearer(OPERATOR_TOKEN) });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        ...SERVICE_STATUS,
        tasks: {
          clearing: { ...SERVICE_STATUS.tasks.clearing, runs: SERVICE_STATUS.tasks.clearing.runs.toString() },
        },
      });
    });

    void it("do not exist when no token hash is configured", async () => {
      const api = await startApiServer(ctx().db, { operator: false });
      try {
        for (const [method, path, headers, body] of operatorCalls) {
          const res = await api.call(path, {
            method,
            headers: { ...headers, ...bearer(OPERATOR_TOKEN) },
            ...(body ? { body } : {}),
          });
          assert.equal(res.status, 404, `${method} ${path}`);
        }
        const doc = (await api.call("/v1/openapi.json")).body as { paths: Record<string, unknown> };
        assert.deepEqual(
          Object.keys(doc.paths).filter((p) => p.startsWith("/v1/operator")),
          [],
        );
        assert.ok("/v1/orders" in doc.paths);
      } finally {
        await api.close();
      }
    });

    void it("POST /v1/operator/clearings/{interval}/retry deletes a failed clearing whole, and only that", async () => {
      const { api, db } = ctx();
      const count = async (table: string, interval: bigint) =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::integer AS n FROM ${table} WHERE interval_index = $1`,
            [interval],
          )
        ).rows[0]!.n;
      const failed = clearings.find((c) => c.status === "failed")!;
      const other = clearings.find((c) => c.interval === 100n)!;
      assert.equal(await count("clearing_fills", failed.interval), 1);

      const res = await api.call(`/v1/operator/clearings/${failed.interval}/retry`, {
        method: "POST",
        headers: bearer(OPERATOR_TOKEN),
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(clearingRetrySchema.parse(res.body), {
        interval: failed.interval.toString(),
        deletedBatches: failed.batches.length,
      });
      for (const table of ["clearings", "clearing_batches", "clearing_fills"]) {
        assert.equal(await count(table, failed.interval), 0, table);
      }
      assert.equal(await count("clearing_fills", other.interval), 3);
      assert.equal(await count("batch_settlements", other.interval), 2);
      assert.ok(
        api.logs.some((l) => l.msg === "operator deleted a failed clearing for the submitter to redo"),
      );

      const again = await api.call(`/v1/operator/clearings/${failed.interval}/retry`, {
        method: "POST",
        headers: bearer(OPERATOR_TOKEN),
      });
      assert.equal(again.status, 404);
      assert.deepEqual(again.body, { error: `no clearing for interval ${failed.interval}` });
    });

    void it("POST /v1/operator/readings/retry sets a rejected reading back to pending, and only a rejected one", async () => {
      const { api, db } = ctx();
      const rejected = readings.find((r) => r.ledgerStatus === "rejected")!;
      const retry = () =>
        api.call("/v1/operator/readings/retry", {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(OPERATOR_TOKEN) },
          // Any spelling of the address names the same meter.
          body: JSON.stringify({
            meter: `0x${rejected.meter.slice(2).toUpperCase()}`,
            sequence: rejected.sequence.toString(),
          }),
        });
      const res = await retry();
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(readingRetrySchema.parse(res.body), {
        meter: rejected.meter,
        sequence: rejected.sequence.toString(),
        ledgerStatus: "pending",
      });
      const { rows } = await db.query(
        "SELECT ledger_status, ledger_error FROM readings WHERE meter = $1 AND sequence = $2",
        [rejected.meter, rejected.sequence],
      );
      assert.deepEqual(rows, [{ ledger_status: "pending", ledger_error: null }]);

      const again = await retry();
      assert.equal(again.status, 409);
      assert.match((again.body as { error: string }).error, /is pending; only a rejected one can be retried/);
    });
  });
}
