import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { openApiDocumentSchema } from "../schemas.js";
import type { SuiteContext } from "./apiSuite.js";

type Operation = {
  operationId: string;
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
  security?: unknown;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> };
};

const uint64 = { type: "string", pattern: "^(0|[1-9][0-9]{0,19})$" };
const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" };

/** Every route: method, path, and its parameters as `in:name`. */
const routes: [string, string, string[]][] = [
  ["get", "/v1/health", []],
  ["get", "/v1/deployment", []],
  ["get", "/v1/openapi.json", []],
  ["get", "/v1/intervals/{interval}/book", ["path:interval", "query:side", "query:limit", "query:cursor"]],
  [
    "get",
    "/v1/orders",
    ["query:owner", "query:interval", "query:side", "query:status", "query:limit", "query:cursor"],
  ],
  ["get", "/v1/clearings", ["query:from", "query:to", "query:status", "query:limit", "query:cursor"]],
  ["get", "/v1/clearings/{interval}", ["path:interval"]],
  [
    "get",
    "/v1/trades",
    [
      "query:account",
      "query:interval",
      "query:fromInterval",
      "query:toInterval",
      "query:limit",
      "query:cursor",
    ],
  ],
  ["get", "/v1/settlements", ["query:interval", "query:status", "query:limit", "query:cursor"]],
  [
    "get",
    "/v1/readings",
    [
      "query:meter",
      "query:fromInterval",
      "query:toInterval",
      "query:ledgerStatus",
      "query:limit",
      "query:cursor",
    ],
  ],
  ["post", "/v1/readings", []],
  ["get", "/v1/devices", ["query:owner", "query:status", "query:limit", "query:cursor"]],
  ["get", "/v1/devices/{meter}", ["path:meter"]],
  ["post", "/v1/battery-reports", []],
  ["get", "/v1/devices/{meter}/battery", ["path:meter"]],
  [
    "get",
    "/v1/devices/{meter}/battery-reports",
    ["path:meter", "query:from", "query:to", "query:limit", "query:cursor"],
  ],
  ["get", "/v1/identity/verifiers", []],
  ["post", "/v1/identity/devices", []],
  ["get", "/v1/identity/devices/{deviceId}", ["path:deviceId"]],
  ["post", "/v1/identity/devices/{deviceId}/seal", ["path:deviceId"]],
  ["post", "/v1/identity/devices/{deviceId}/revocation", ["path:deviceId"]],
  ["post", "/v1/identity/devices/{deviceId}/verifications", ["path:deviceId"]],
  ["post", "/v1/identity/verifications/{requestId}/responses", ["path:requestId"]],
  ["post", "/v1/identity/verifications/{requestId}/activation", ["path:requestId"]],
  ["get", "/v1/identity/events", ["query:name", "query:deviceId", "query:limit", "query:cursor"]],
  ["get", "/v1/operator/status", []],
  ["post", "/v1/operator/clearings/{interval}/retry", ["path:interval"]],
  ["post", "/v1/operator/readings/retry", []],
  ["get", "/v1/operator/utility/controllers", []],
  [
    "get",
    "/v1/operator/utility/controllers/{controllerId}/hours",
    ["path:controllerId", "query:from", "query:to", "query:limit", "query:cursor"],
  ],
  ["get", "/v1/operator/utility/failed-requests", ["query:controllerId", "query:limit", "query:cursor"]],
  [
    "get",
    "/v1/operator/utility/rejected-records",
    ["query:controllerId", "query:hour", "query:limit", "query:cursor"],
  ],
  ["get", "/v1/operator/utility/statistics", []],
  ["get", "/v1/operator/utility/export", []],
  ["post", "/v1/operator/utility/recoveries", []],
  ["post", "/v1/operator/utility/commands", []],
  [
    "get",
    "/v1/operator/utility/commands",
    ["query:controllerId", "query:status", "query:limit", "query:cursor"],
  ],
  ["get", "/v1/operator/billing/rates", []],
  ["post", "/v1/operator/billing/rates", []],
  ["post", "/v1/operator/billing/months/{month}/bills", ["path:month"]],
  ["get", "/v1/operator/billing/months/{month}/bills", ["path:month", "query:account"]],
  ["get", "/v1/operator/billing/months/{month}/bills.csv", ["path:month", "query:account"]],
  ["get", "/v1/operator/billing/statement", ["query:account"]],
  ["get", "/v1/operator/billing/statement.csv", ["query:account"]],
  ["get", "/v1/customer/bills", []],
  ["get", "/v1/customer/months/{month}/bills.csv", ["path:month"]],
  ["get", "/v1/customer/statement", []],
  ["get", "/v1/customer/statement.csv", []],
  ["get", "/v1/operator/supply", []],
  ["get", "/v1/operator/supply/routing", []],
  ["get", "/v1/operator/supply/battery", []],
  ["get", "/v1/operator/supply/purchases", ["query:limit", "query:cursor"]],
  ["get", "/v1/operator/supply/history", ["query:limit", "query:cursor"]],
  ["post", "/v1/operator/supply/override", []],
];

export function describeOpenApi(ctx: () => SuiteContext): void {
  void describe("GET /v1/openapi.json", () => {
    let doc: Document;
    const op = (method: string, path: string) => doc.paths[path]![method]!;

    void it("is an OpenAPI 3.1 document listing every route with its parameters", async () => {
      const res = await ctx().api.call("/v1/openapi.json");
      assert.equal(res.status, 200);
      openApiDocumentSchema.parse(res.body);
      doc = res.body as Document;
      assert.equal(doc.openapi, "3.1.0");
      const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${path}`),
      );
      assert.deepEqual(listed.sort(), routes.map(([m, p]) => `${m} ${p}`).sort());
      for (const [method, path, parameters] of routes) {
        const operation = op(method, path);
        assert.deepEqual(
          operation.parameters.map((p) => `${p.in}:${p.name}`),
          parameters,
          `${method} ${path}`,
        );
        for (const p of operation.parameters) assert.equal(p.required, p.in === "path", `${path} ${p.name}`);
        // Downloads are described as what they are, not as JSON.
        const type = path.endsWith(".csv")
          ? "text/csv"
          : path === "/v1/operator/utility/export"
            ? "application/x-ndjson"
            : "application/json";
        const content = operation.responses["200"]!.content;
        assert.deepEqual(Object.keys(content), [type], `${method} ${path}`);
        assert.match(content[type]!.schema.$ref, /^#\/components\/schemas\//);
        assert.ok(
          operation.responses["400"] && operation.responses["500"],
          `${method} ${path} documents 400 and 500`,
        );
      }
      const ids = routes.map(([m, p]) => op(m, p).operationId);
      assert.equal(new Set(ids).size, ids.length, "operation ids are unique");
    });

    void it("gives each parameter the schema the handler validates with", () => {
      const param = (method: string, path: string, name: string) =>
        op(method, path).parameters.find((p) => p.name === name)!.schema;
      assert.deepEqual(param("get", "/v1/intervals/{interval}/book", "interval"), uint64);
      assert.deepEqual(param("get", "/v1/clearings", "from"), uint64);
      assert.deepEqual(param("get", "/v1/devices/{meter}", "meter"), address);
      assert.deepEqual(param("get", "/v1/orders", "owner"), address);
      assert.deepEqual(param("get", "/v1/orders", "side"), { type: "string", enum: ["offer", "bid"] });
      assert.deepEqual(param("get", "/v1/orders", "status"), {
        type: "string",
        enum: ["open", "cancelled", "matched", "settled", "released"],
      });
      assert.deepEqual(param("get", "/v1/trades", "limit"), { type: "string", pattern: "^[1-9][0-9]{0,3}$" });
      const limit = op("get", "/v1/trades").parameters.find((p) => p.name === "limit") as {
        description?: string;
      };
      assert.match(limit.description ?? "", /1 to 1000; default 100/);
    });

    void it("describes the request bodies, operator security and every referenced schema", () => {
      const readingsBody = op("post", "/v1/readings").requestBody!.content["application/json"]!.schema;
      assert.deepEqual(readingsBody, { $ref: "#/components/schemas/SignedReadingBatch" });
      const batch = doc.components.schemas.SignedReadingBatch as {
        properties: { readings: { maxItems: number; minItems: number; items: unknown } };
      };
      assert.equal(batch.properties.readings.maxItems, 1000);
      assert.equal(batch.properties.readings.minItems, 1);
      assert.deepEqual(batch.properties.readings.items, { $ref: "#/components/schemas/SignedReading" });
      const retryBody = op("post", "/v1/operator/readings/retry").requestBody!.content["application/json"]!
        .schema;
      assert.deepEqual(retryBody, {
        type: "object",
        properties: { meter: address, sequence: uint64 },
        required: ["meter", "sequence"],
        additionalProperties: false,
      });

      assert.deepEqual(Object.keys(doc.components.securitySchemes), ["operatorToken", "customerWallet"]);
      assert.deepEqual(doc.components.securitySchemes.operatorToken, { type: "http", scheme: "bearer" });
      assert.match(
        JSON.stringify(doc.components.securitySchemes.customerWallet),
        /"scheme":"GridMesh-Wallet".*EIP-712 CustomerAccess/,
      );
      for (const [method, path] of routes) {
        const operator = path.startsWith("/v1/operator/");
        const customer = path.startsWith("/v1/customer/");
        assert.deepEqual(
          op(method, path).security,
          operator ? [{ operatorToken: [] }] : customer ? [{ customerWallet: [] }] : undefined,
          path,
        );
        assert.equal("401" in op(method, path).responses, operator || customer, path);
      }

      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map(
        (m) => m[1]!,
      );
      assert.ok(refs.length > routes.length);
      for (const name of new Set(refs)) assert.ok(name in doc.components.schemas, `${name} is defined`);
    });
  });
}
