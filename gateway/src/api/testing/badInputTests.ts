import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { errorSchema } from "../schemas.js";
import { meters, snapshotTables } from "./apiFixtures.js";
import type { SuiteContext } from "./apiSuite.js";
import { OPERATOR_TOKEN, startApiServer } from "./apiTestContext.js";

interface BadRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body chunked, without a declared length. */
  chunked?: boolean;
  status: number;
  /** For 400: the fields the issues name, in order. */
  issues?: string[];
  /** Matches the `error` message (and for 400 some issue's message). */
  message?: RegExp;
  allow?: string;
}

const json = { "content-type": "application/json" };
const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
const validReading = {
  reading: {
    meter: meters.alice,
    interval: "5",
    sequence: "9",
    importStartWh: "1",
    importEndWh: "2",
    exportStartWh: "0",
    exportEndWh: "0",
    timestamp: "5400",
  },
  signature: `0x${"ab".repeat(65)}`,
};

const cases: BadRequest[] = [
  { path: "/v1/orders?limit=0", status: 400, issues: ["query.limit"], message: /integer from 1 to 1000/ },
  { path: "/v1/orders?limit=1001", status: 400, issues: ["query.limit"], message: /integer from 1 to 1000/ },
  { path: "/v1/orders?limit=ten", status: 400, issues: ["query.limit"] },
  { path: "/v1/orders?owner=0x1234", status: 400, issues: ["query.owner"], message: /20-byte/ },
  { path: "/v1/orders?status=lost&side=both", status: 400, issues: ["query.side", "query.status"] },
  { path: "/v1/orders?colour=red", status: 400, issues: ["query.colour"], message: /not a query parameter/ },
  { path: "/v1/orders?limit=5&limit=6", status: 400, issues: ["query.limit"], message: /more than once/ },
  {
    path: "/v1/orders?cursor=garbage",
    status: 400,
    issues: ["query.cursor"],
    message: /not a cursor of orders/,
  },
  { path: "/v1/intervals/abc/book", status: 400, issues: ["path.interval"], message: /decimal integer/ },
  {
    path: "/v1/intervals/18446744073709551616/book",
    status: 400,
    issues: ["path.interval"],
    message: /uint64/,
  },
  { path: "/v1/intervals/007/book", status: 400, issues: ["path.interval"], message: /leading zeros/ },
  { path: "/v1/intervals/%ZZ/book", status: 400, issues: ["path.interval"] },
  { path: "/v1/intervals/1/book?side=sell", status: 400, issues: ["query.side"] },
  { path: "/v1/clearings?from=5&to=4", status: 400, issues: ["query.to"], message: /below from/ },
  { path: "/v1/clearings/-1", status: 400, issues: ["path.interval"] },
  { path: "/v1/devices/0xnothex", status: 400, issues: ["path.meter"] },
  { path: "/v1/readings?meter=x&limit=0", status: 400, issues: ["query.meter", "query.limit"] },
  { path: "/v1/readings?fromInterval=9&toInterval=8", status: 400, issues: ["query.toInterval"] },
  { path: "/v1/trades?account=0xzz&interval=1.5", status: 400, issues: ["query.account", "query.interval"] },
  { path: "/v1/trades?fromInterval=5&toInterval=4", status: 400, issues: ["query.toInterval"] },
  { path: "/v1/settlements?status=done", status: 400, issues: ["query.status"] },
  { path: "/v1/nope", status: 404, message: /no route GET \/v1\/nope/ },
  { path: "/v1/orders/", status: 404 },
  { method: "DELETE", path: "/v1/orders", status: 405, allow: "GET" },
  { method: "POST", path: "/v1/health", status: 405, allow: "GET" },
  { method: "PUT", path: "/v1/readings", headers: json, body: "{}", status: 405, allow: "GET, POST" },
  {
    method: "POST",
    path: "/v1/readings",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify({ readings: [validReading] }),
    status: 415,
    message: /application\/json/,
  },
  {
    method: "POST",
    path: "/v1/readings",
    headers: json,
    body: "{",
    status: 400,
    issues: ["body"],
    message: /not JSON/,
  },
  { method: "POST", path: "/v1/readings", headers: json, body: "{}", status: 400, issues: ["body.readings"] },
  {
    method: "POST",
    path: "/v1/readings",
    headers: json,
    body: '{"readings":[]}',
    status: 400,
    issues: ["body.readings"],
    message: /at least one/,
  },
  {
    method: "POST",
    path: "/v1/readings",
    headers: json,
    body: JSON.stringify({
      readings: [
        validReading,
        { reading: { ...validReading.reading, importEndWh: "-5" }, signature: "0x12" },
      ],
    }),
    status: 400,
    issues: ["body.readings.1.reading.importEndWh", "body.readings.1.signature"],
  },
  {
    method: "POST",
    path: "/v1/readings",
    headers: json,
    body: JSON.stringify({ readings: [validReading], padding: "x".repeat(1_100_000) }),
    status: 413,
    message: /exceeds 1048576 bytes/,
  },
  {
    method: "POST",
    path: "/v1/operator/readings/retry",
    headers: { ...json, ...operator },
    body: JSON.stringify({ meter: "x", sequence: "-1", extra: 1 }),
    status: 400,
    issues: ["body.meter", "body.sequence", "body.extra"],
  },
  {
    method: "POST",
    path: "/v1/operator/readings/retry",
    headers: { "content-type": "text/plain", ...operator },
    body: JSON.stringify({ meter: meters.alice, sequence: "3" }),
    status: 415,
  },
  {
    method: "POST",
    path: "/v1/operator/readings/retry",
    headers: { ...json, ...operator },
    body: JSON.stringify({ meter: meters.alice, sequence: "3", pad: "x".repeat(5000) }),
    status: 413,
  },
  {
    method: "POST",
    path: "/v1/operator/readings/retry",
    headers: { ...json, ...operator },
    body: JSON.stringify({ meter: meters.alice, sequence: "3", pad: "x".repeat(5000) }),
    chunked: true,
    status: 413,
    message: /exceeds 4096 bytes/,
  },
  {
    method: "POST",
    path: "/v1/operator/readings/retry",
    headers: { ...json, ...operator },
    body: JSON.stringify({ meter: meters.alice, sequence: "1" }),
    status: 409,
    message: /reading 1 of meter 0x0+a1 is recorded; only a rejected one/,
  },
  {
    method: "POST",
    path: "/v1/operator/readings/retry",
    headers: { ...json, ...operator },
    body: JSON.stringify({ meter: meters.alice, sequence: "99" }),
    status: 404,
  },
  {
    method: "POST",
    path: "/v1/operator/clearings/abc/retry",
    headers: operator,
    status: 400,
    issues: ["path.interval"],
  },
  {
    method: "POST",
    path: "/v1/operator/clearings/100/retry",
    headers: operator,
    status: 409,
    message: /interval 100 is finalized; only a failed one/,
  },
  { method: "POST", path: "/v1/operator/clearings/555/retry", headers: operator, status: 404 },
  { method: "GET", path: "/v1/operator/clearings/101/retry", headers: operator, status: 405, allow: "POST" },
  { method: "POST", path: "/v1/operator/clearings/101/retry", status: 401 },
];

/** The body as a stream of 1 KB chunks: fetch then sends it chunked, with no content-length. */
function chunks(text: string): ReadableStream<Uint8Array> {
  const bytes = Buffer.from(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += 1024)));
    },
  });
}

export function describeBadInput(ctx: () => SuiteContext): void {
  void describe("bad requests", () => {
    void it("are refused with the right status and every bad field named, changing nothing", async () => {
      const { api, db } = ctx();
      const before = await snapshotTables(db);
      // A cursor is only good for the list that made it.
      const devicesPage = await api.call("/v1/devices?limit=1");
      const foreignCursor = (devicesPage.body as { nextCursor: string }).nextCursor;
      const all: BadRequest[] = [
        ...cases,
        {
          path: `/v1/orders?cursor=${foreignCursor}`,
          status: 400,
          issues: ["query.cursor"],
          message: /not a cursor of orders/,
        },
      ];
      for (const c of all) {
        const label = `${c.method ?? "GET"} ${c.path.slice(0, 80)}`;
        const res = await api.call(c.path, {
          method: c.method ?? "GET",
          ...(c.headers === undefined ? {} : { headers: c.headers }),
          ...(c.body === undefined ? {} : { body: c.chunked ? chunks(c.body) : c.body }),
          ...(c.chunked ? { duplex: "half" } : {}),
        });
        assert.equal(res.status, c.status, `${label}: ${res.text}`);
        const body = errorSchema.parse(res.body);
        assert.doesNotMatch(res.text, /SELECT|INSERT|UPDATE|DELETE FROM|\bat .+\.[jt]s:\d+/, label);
        if (c.issues !== undefined) {
          // One field may fail more than one rule; each bad field must be named.
          assert.deepEqual([...new Set(body.issues?.map((i) => i.path))], c.issues, label);
          for (const path of c.issues) assert.ok(body.error.includes(path), `${label}: error names ${path}`);
        }
        if (c.message !== undefined) {
          const texts = [body.error, ...(body.issues ?? []).map((i) => i.message)];
          assert.ok(
            texts.some((t) => c.message!.test(t)),
            `${label}: ${res.text}`,
          );
        }
        if (c.allow !== undefined) assert.equal(res.headers.get("allow"), c.allow, label);
      }
      assert.equal(await snapshotTables(db), before);
    });

    void it("answers a failing database with a generic 500, logging the error with the request", async () => {
      const broken = await ctx().openDatabase();
      await broken.close();
      const api = await startApiServer(broken, { operator: false });
      try {
        const res = await api.call("/v1/orders?owner=" + meters.bob);
        assert.equal(res.status, 500);
        assert.deepEqual(res.body, { error: "internal error" });
        const logged = api.logs.find((l) => l.msg === "http request failed");
        assert.ok(logged, JSON.stringify(api.logs));
        assert.equal(logged.level, 50);
        assert.equal(logged.path, "/v1/orders");
        assert.equal(logged.method, "GET");
        assert.ok(typeof (logged.err as { message?: unknown }).message === "string");
        const health = await api.call("/v1/health");
        assert.equal(health.status, 503);
        assert.deepEqual(health.body, { error: `database (${ctx().engine}) is unavailable` });
      } finally {
        await api.close();
      }
    });
  });
}
