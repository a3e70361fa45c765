import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ConfigError } from "../common/errors.js";
import { loadGatewayConfig } from "./config.js";

describe("loadGatewayConfig", () => {
  it("gives a complete embedded-database configuration with no environment at all", () => {
    const config = loadGatewayConfig({});
    assert.deepEqual(config, {
      http: { host: "127.0.0.1", port: 8080 },
      chain: { rpcUrl: "http://127.0.0.1:8545", confirmations: 0 },
      database: { kind: "embedded", dataDir: ".gridmesh/gateway-db" },
      market: { intervalSeconds: 900, gateClosureSeconds: 60 },
      logLevel: "info",
    });
  });

  it("switches to PostgreSQL when a connection string is given", () => {
    const config = loadGatewayConfig({ GRIDMESH_DATABASE_URL: "postgres://grid@127.0.0.1:5432/grid" });
    assert.deepEqual(config.database, { kind: "postgres", url: "postgres://grid@127.0.0.1:5432/grid" });
  });

  it("coerces numbers and keeps explicit values", () => {
    const config = loadGatewayConfig({
      GRIDMESH_HTTP_PORT: "9000",
      GRIDMESH_INTERVAL_SECONDS: "10",
      GRIDMESH_GATE_CLOSURE_SECONDS: "2",
      GRIDMESH_CONFIRMATIONS: "12",
    });
    assert.equal(config.http.port, 9000);
    assert.equal(config.market.intervalSeconds, 10);
    assert.equal(config.market.gateClosureSeconds, 2);
    assert.equal(config.chain.confirmations, 12);
  });

  it("reports every bad variable by name in one error", () => {
    assert.throws(
      () =>
        loadGatewayConfig({
          GRIDMESH_HTTP_PORT: "80000",
          GRIDMESH_RPC_URL: "ftp://example.invalid",
          GRIDMESH_LOG_LEVEL: "loud",
          GRIDMESH_DATABASE_URL: "mysql://x",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const names = err.problems.map((p) => p.split(":")[0]).sort();
        assert.deepEqual(names, [
          "GRIDMESH_DATABASE_URL",
          "GRIDMESH_HTTP_PORT",
          "GRIDMESH_LOG_LEVEL",
          "GRIDMESH_RPC_URL",
        ]);
        return true;
      },
    );
  });

  it("refuses a gate closure that is not shorter than the interval", () => {
    assert.throws(
      () => loadGatewayConfig({ GRIDMESH_INTERVAL_SECONDS: "10", GRIDMESH_GATE_CLOSURE_SECONDS: "10" }),
      /GRIDMESH_GATE_CLOSURE_SECONDS: must be shorter than the interval \(10 s\)/,
    );
  });
});
