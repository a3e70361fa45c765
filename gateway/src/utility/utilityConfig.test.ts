import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ConfigError } from "../common/errors.js";
import { loadUtilityConfig } from "./utilityConfig.js";

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("loadUtilityConfig", () => {
  it("is off without a fleet file", () => {
    assert.equal(loadUtilityConfig({ GRIDMESH_CHAIN_ID: "1" }), undefined);
  });

  it("takes the seed's defaults: an hourly poll, one remake a second, ten weeks, six months", () => {
    const config = loadUtilityConfig({
      GRIDMESH_UTILITY_FLEET: "fleet.json",
      GRIDMESH_CHAIN_ID: "31337",
      GRIDMESH_DELIVERY_LEDGER: LEDGER,
    })!;
    assert.equal(config.readings.chainId, 31337n);
    assert.equal(config.readings.intervalSeconds, 900);
    assert.equal(config.failedRequests.periodMs, 1000);
    assert.equal(config.recovery.weeks, 10);
    assert.equal(config.retention.months, 6);
    assert.equal(config.clock, undefined);
    assert.equal(config.minLoopGapMs, 50);
    assert.deepEqual(config.lease, { leaseMs: 30_000, renewMs: 10_000 });
  });

  it("refuses a lease renewed too seldom to be kept", () => {
    assert.throws(
      () =>
        loadUtilityConfig({
          GRIDMESH_UTILITY_FLEET: "fleet.json",
          GRIDMESH_CHAIN_ID: "31337",
          GRIDMESH_DELIVERY_LEDGER: LEDGER,
          GRIDMESH_UTILITY_LEASE_MS: "10000",
          GRIDMESH_UTILITY_LEASE_RENEW_MS: "6000",
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 1 &&
        /^GRIDMESH_UTILITY_LEASE_RENEW_MS: renewMs must be at most half of leaseMs/.test(e.problems[0]!),
    );
  });

  it("takes the loops' pace from the environment", () => {
    const config = loadUtilityConfig({
      GRIDMESH_UTILITY_FLEET: "fleet.json",
      GRIDMESH_CHAIN_ID: "31337",
      GRIDMESH_DELIVERY_LEDGER: LEDGER,
      GRIDMESH_UTILITY_FAILED_REQUEST_PERIOD_MS: "250",
      GRIDMESH_UTILITY_COMMAND_PERIOD_MS: "2000",
      GRIDMESH_UTILITY_MIN_LOOP_GAP_MS: "0",
    })!;
    assert.deepEqual(
      [config.failedRequests.periodMs, config.commands.periodMs, config.minLoopGapMs],
      [250, 2000, 0],
    );
  });

  it("names every bad variable at once", () => {
    assert.throws(
      () =>
        loadUtilityConfig({
          GRIDMESH_UTILITY_FLEET: "fleet.json",
          GRIDMESH_DELIVERY_LEDGER: "0x12",
          GRIDMESH_UTILITY_RETENTION_MONTHS: "2",
          GRIDMESH_CLOCK_SPEED: "60",
        }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.problems.map((p) => p.split(":")[0]),
          [
            "GRIDMESH_CHAIN_ID",
            "GRIDMESH_DELIVERY_LEDGER",
            "GRIDMESH_UTILITY_RETENTION_MONTHS",
            "GRIDMESH_CLOCK_ORIGIN_MS",
          ],
        );
        assert.match(e.problems[0]!, /is required/);
        assert.match(e.problems[2]!, /at least 3/);
        return true;
      },
    );
  });
});
