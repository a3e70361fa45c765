import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ConfigError } from "../../common/errors.js";
import { loadSupplyConfig } from "./supplyConfig.js";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadSupplyConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  assert.fail("expected a ConfigError");
};

describe("supply configuration", () => {
  it("is off when no feed is configured", () => {
    assert.equal(loadSupplyConfig({ GRIDMESH_SUPPLY_BATTERY_WH: "1000" }), undefined);
  });

  it("reads an HTTP feed with defaults for everything but the battery", () => {
    const config = loadSupplyConfig({
      GRIDMESH_SUPPLY_FEED_URL: "http://127.0.0.1:9000",
      GRIDMESH_SUPPLY_BATTERY_WH: "500000",
    });
    assert.deepEqual(config, {
      feed: { kind: "http", url: "http://127.0.0.1:9000", timeoutMs: 5000 },
      battery: { capacityWh: 500_000n },
      purchase: { everySeconds: 300, criticalFraction: 0.2 },
      peakHours: { startHour: 17, endHour: 21 },
      timeZone: "UTC",
      accountingLookbackHours: 48,
    });
  });

  it("reads a file feed with every option", () => {
    const config = loadSupplyConfig({
      GRIDMESH_SUPPLY_FEED_FILE: "/etc/gridmesh/supply.json",
      GRIDMESH_SUPPLY_BATTERY_WH: "10000",
      GRIDMESH_SUPPLY_INITIAL_CHARGE_WH: "2500",
      GRIDMESH_SUPPLY_PURCHASE_EVERY_S: "60",
      GRIDMESH_SUPPLY_CRITICAL_FRACTION: "0.1",
      GRIDMESH_SUPPLY_MAX_PURCHASE_WH: "4000",
      GRIDMESH_SUPPLY_PEAK_HOURS: "7-11",
      GRIDMESH_BILLING_TIME_ZONE: "America/New_York",
      GRIDMESH_SUPPLY_LOOKBACK_HOURS: "12",
    });
    assert.deepEqual(config, {
      feed: { kind: "file", path: "/etc/gridmesh/supply.json" },
      battery: { capacityWh: 10_000n, initialChargeWh: 2_500n },
      purchase: { everySeconds: 60, criticalFraction: 0.1, maxPurchaseWh: 4_000n },
      peakHours: { startHour: 7, endHour: 11 },
      timeZone: "America/New_York",
      accountingLookbackHours: 12,
    });
  });

  it("names every bad variable at once", () => {
    const problems = problemsOf({
      GRIDMESH_SUPPLY_FEED_URL: "ftp://grid.example",
      GRIDMESH_SUPPLY_BATTERY_WH: "1.5",
      GRIDMESH_SUPPLY_CRITICAL_FRACTION: "1",
      GRIDMESH_SUPPLY_PEAK_HOURS: "21-17",
      GRIDMESH_BILLING_TIME_ZONE: "Mars/Olympus",
    });
    const named = problems.map((p) => p.split(":")[0]).sort();
    assert.deepEqual(named, [
      "GRIDMESH_BILLING_TIME_ZONE",
      "GRIDMESH_SUPPLY_BATTERY_WH",
      "GRIDMESH_SUPPLY_CRITICAL_FRACTION",
      "GRIDMESH_SUPPLY_FEED_URL",
      "GRIDMESH_SUPPLY_PEAK_HOURS",
    ]);
  });

  it("refuses two feeds, a missing battery and an initial charge above capacity", () => {
    assert.match(
      problemsOf({ GRIDMESH_SUPPLY_FEED_URL: "http://a", GRIDMESH_SUPPLY_FEED_FILE: "/b" })[0]!,
      /set one, not both/,
    );
    assert.deepEqual(problemsOf({ GRIDMESH_SUPPLY_FEED_FILE: "/b" }), [
      "GRIDMESH_SUPPLY_BATTERY_WH: must be whole watt-hours",
    ]);
    assert.deepEqual(
      problemsOf({
        GRIDMESH_SUPPLY_FEED_FILE: "/b",
        GRIDMESH_SUPPLY_BATTERY_WH: "100",
        GRIDMESH_SUPPLY_INITIAL_CHARGE_WH: "101",
      }),
      ["GRIDMESH_SUPPLY_INITIAL_CHARGE_WH: must not exceed capacityWh"],
    );
  });
});
