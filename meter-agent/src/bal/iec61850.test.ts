import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { BatteryStatus } from "./battery.js";
import { toIec61850 } from "./iec61850.js";

const charging: BatteryStatus = {
  voltage: 51.2,
  current: -12.5,
  capacity: 90,
  stateOfCharge: 0.42,
  maxChargeCurrent: 30,
  maxDischargeCurrent: 45,
  expected: { capacity: 100, stateOfCharge: 0.42, maxChargeCurrent: 40, maxDischargeCurrent: 50 },
  timestamp: [1_000, 1_250],
};

describe("toIec61850", () => {
  it("maps a status onto ZBAT and ZBTC data objects stamped with the snapshot's end", () => {
    const { ZBAT, ZBTC } = toIec61850(charging);
    assert.deepEqual(ZBAT.Vol, { cdc: "MV", fc: "MX", value: 51.2, unit: "V", t: 1_250, q: "good" });
    assert.deepEqual(ZBAT.Amp, { cdc: "MV", fc: "MX", value: -12.5, unit: "A", t: 1_250, q: "good" });
    assert.deepEqual(ZBAT.AhrRtg, { cdc: "ASG", fc: "SP", value: 100, unit: "Ah", t: 1_250, q: "good" });
    assert.deepEqual(ZBAT.MaxBatA, { cdc: "ASG", fc: "SP", value: 45, unit: "A", t: 1_250, q: "good" });
    assert.deepEqual(ZBAT.BatSt, { cdc: "SPS", fc: "ST", value: true, t: 1_250, q: "good" });
    assert.equal(ZBAT.SocPct.value, 42);
    assert.equal(ZBAT.SocPct.extension, true);
    assert.deepEqual(ZBTC.ChaA, { cdc: "MV", fc: "MX", value: 12.5, unit: "A", t: 1_250, q: "good" });
    assert.deepEqual(ZBTC.ReChaRte, { cdc: "ASG", fc: "SP", value: 30, unit: "A", t: 1_250, q: "good" });
  });

  it("shows no charging current while discharging", () => {
    const { ZBAT, ZBTC } = toIec61850({ ...charging, current: 20 });
    assert.equal(ZBAT.Amp.value, 20);
    assert.equal(ZBTC.ChaA.value, 0);
    assert.ok(Object.is(toIec61850({ ...charging, current: 0 }).ZBTC.ChaA.value, 0));
  });

  it("marks every value questionable when the snapshot spans more than staleAfterMs", () => {
    const fresh = toIec61850(charging, { staleAfterMs: 250 });
    assert.equal(fresh.ZBAT.Vol.q, "good");
    const stale = toIec61850(charging, { staleAfterMs: 249 });
    for (const node of [stale.ZBAT, stale.ZBTC]) {
      for (const object of Object.values(node)) assert.equal(object.q, "questionable");
    }
  });
});
