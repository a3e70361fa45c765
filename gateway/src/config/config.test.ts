import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ConfigError } from "../common/errors.js";
import { loadGatewayConfig } from "./config.js";

const contracts = {
  GRIDMESH_ENERGY_MARKET: "0x" + "11".repeat(20),
  GRIDMESH_DELIVERY_LEDGER: "0x" + "22".repeat(20),
  GRIDMESH_METER_REGISTRY: "0x" + "33".repeat(20),
};

describe("loadGatewayConfig", () => {
  it("gives a complete embedded-database, read-only configuration from the contract addresses alone", () => {
    const config = loadGatewayConfig(contracts);
    assert.deepEqual(config, {
      http: { host: "127.0.0.1", port: 8080, corsOrigins: [] },
      chain: {
        rpcUrl: "http://127.0.0.1:8545",
        confirmations: 0,
        startBlock: 0n,
        pollMs: 1000,
        contracts: {
          energyMarket: contracts.GRIDMESH_ENERGY_MARKET,
          deliveryLedger: contracts.GRIDMESH_DELIVERY_LEDGER,
          meterRegistry: contracts.GRIDMESH_METER_REGISTRY,
          forwardMarket: undefined,
          optionMarket: undefined,
        },
      },
      signer: undefined,
      database: { kind: "embedded", dataDir: ".gridmesh/gateway-db" },
      market: { clearingBatchSize: 250, readingsBatchSize: 50 },
      operatorTokenSha256: undefined,
      identity: {
        ownerMsp: "UtilityMSP",
        ledger: { kind: "embedded", file: ".gridmesh/secure-id.sqlite" },
        verifiers: [],
      },
      logLevel: "info",
    });
  });

  it("opens Secure ID on Fabric with a profile, with verifier keystores paired by MSP id", () => {
    const config = loadGatewayConfig({
      ...contracts,
      GRIDMESH_SECURE_ID: "fabric",
      GRIDMESH_FABRIC_PROFILE: "/var/lib/fabric/network.json",
      GRIDMESH_VERIFIER_KEYSTORES: "Verifier1MSP=/k/v1.json, Verifier2MSP=/k/v2.json",
      GRIDMESH_VERIFIER_PASSPHRASE_FILES: "Verifier2MSP=/p/v2,Verifier1MSP=/p/v1",
    });
    assert.deepEqual(config.identity, {
      ownerMsp: "UtilityMSP",
      ledger: { kind: "fabric", profile: "/var/lib/fabric/network.json" },
      verifiers: [
        { mspId: "Verifier1MSP", keystoreFile: "/k/v1.json", passphraseFile: "/p/v1" },
        { mspId: "Verifier2MSP", keystoreFile: "/k/v2.json", passphraseFile: "/p/v2" },
      ],
    });
  });

  it("keeps the embedded Secure ID ledger beside the data directory unless told where", () => {
    assert.deepEqual(loadGatewayConfig({ ...contracts, GRIDMESH_DATA_DIR: "/srv/gm/db" }).identity.ledger, {
      kind: "embedded",
      file: "/srv/gm/secure-id.sqlite",
    });
    const explicit = loadGatewayConfig({ ...contracts, GRIDMESH_SECURE_ID_FILE: "/srv/secure-id.db" });
    assert.deepEqual(explicit.identity.ledger, { kind: "embedded", file: "/srv/secure-id.db" });
  });

  it("names the Secure ID variable at fault", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadGatewayConfig({ ...contracts, ...env });
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.problems;
      }
      assert.fail("expected a ConfigError");
    };
    assert.deepEqual(problems({ GRIDMESH_SECURE_ID: "fabric" }), [
      "GRIDMESH_FABRIC_PROFILE: is required for fabric",
    ]);
    assert.match(problems({ GRIDMESH_SECURE_ID: "ledger" })[0]!, /^GRIDMESH_SECURE_ID: /);
    assert.deepEqual(problems({ GRIDMESH_VERIFIER_KEYSTORES: "Verifier1MSP=/k/v1.json" }), [
      "GRIDMESH_VERIFIER_PASSPHRASE_FILES: no passphrase file for Verifier1MSP",
    ]);
    assert.deepEqual(
      problems({
        GRIDMESH_VERIFIER_KEYSTORES: "Verifier1MSP",
        GRIDMESH_VERIFIER_PASSPHRASE_FILES: "A=/p,A=/q",
      }),
      [
        'GRIDMESH_VERIFIER_KEYSTORES: "Verifier1MSP" is not MSP=file',
        "GRIDMESH_VERIFIER_PASSPHRASE_FILES: A is given twice",
      ],
    );
  });

  it("switches to PostgreSQL when a connection string is given", () => {
    const config = loadGatewayConfig({
      ...contracts,
      GRIDMESH_DATABASE_URL: "postgres://grid@127.0.0.1:5432/grid",
    });
    assert.deepEqual(config.database, { kind: "postgres", url: "postgres://grid@127.0.0.1:5432/grid" });
  });

  it("coerces numbers and keeps explicit values, the signer and the operator token hash", () => {
    const config = loadGatewayConfig({
      ...contracts,
      GRIDMESH_HTTP_PORT: "9000",
      GRIDMESH_CONFIRMATIONS: "12",
      GRIDMESH_CLEARING_BATCH_SIZE: "500",
      GRIDMESH_KEYSTORE_FILE: "/etc/gridmesh/key.json",
      GRIDMESH_KEYSTORE_PASSPHRASE_FILE: "/run/credentials/passphrase",
      GRIDMESH_OPERATOR_TOKEN_SHA256: "ab".repeat(32),
    });
    assert.equal(config.http.port, 9000);
    assert.equal(config.chain.confirmations, 12);
    assert.equal(config.market.clearingBatchSize, 500);
    assert.deepEqual(config.signer, {
      keystoreFile: "/etc/gridmesh/key.json",
      passphraseFile: "/run/credentials/passphrase",
    });
    assert.equal(config.operatorTokenSha256, "ab".repeat(32));
  });

  it("reports every bad variable by name in one error", () => {
    assert.throws(
      () =>
        loadGatewayConfig({
          GRIDMESH_HTTP_PORT: "80000",
          GRIDMESH_RPC_URL: "ftp://example.invalid",
          GRIDMESH_LOG_LEVEL: "loud",
          GRIDMESH_DATABASE_URL: "mysql://x",
          GRIDMESH_ENERGY_MARKET: "0x1234",
          GRIDMESH_KEYSTORE_FILE: "/k.json",
          GRIDMESH_OPERATOR_TOKEN_SHA256: "secret",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const names = err.problems.map((p) => p.split(":")[0]).sort();
        assert.deepEqual(names, [
          "GRIDMESH_DATABASE_URL",
          "GRIDMESH_DELIVERY_LEDGER",
          "GRIDMESH_ENERGY_MARKET",
          "GRIDMESH_HTTP_PORT",
          "GRIDMESH_KEYSTORE_PASSPHRASE_FILE",
          "GRIDMESH_LOG_LEVEL",
          "GRIDMESH_METER_REGISTRY",
          "GRIDMESH_OPERATOR_TOKEN_SHA256",
          "GRIDMESH_RPC_URL",
        ]);
        return true;
      },
    );
  });

  it("takes the web app's origins for CORS and refuses anything that is not an origin", () => {
    const config = loadGatewayConfig({
      ...contracts,
      GRIDMESH_CORS_ORIGINS: "https://app.gridmesh.example, http://127.0.0.1:3000",
    });
    assert.deepEqual(config.http.corsOrigins, ["https://app.gridmesh.example", "http://127.0.0.1:3000"]);
    assert.throws(
      () => loadGatewayConfig({ ...contracts, GRIDMESH_CORS_ORIGINS: "https://app.example/path" }),
      /GRIDMESH_CORS_ORIGINS: must be an origin/,
    );
  });
});
