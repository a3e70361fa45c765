import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { settingsToResend } from "./meterReconciliation.js";

const november = {
  month: "2026-11",
  peakRate: "300",
  offPeakRate: "100",
  peakStartHour: 17,
  peakEndHour: 21,
};
const december = { ...november, month: "2026-12", peakRate: "320" };

void describe("settingsToResend", () => {
  it("sends nothing to a meter that holds every setting", () => {
    const status = {
      reducingPowerDemand: true,
      dataIntervalSeconds: 120,
      billingRates: [november, december],
    };
    const wanted = { demandReduction: true, dataIntervalSeconds: 120, billingRates: [november, december] };
    assert.deepEqual(settingsToResend(status, wanted), []);
  });

  it("resends what a reset meter lost: demand reduction, interval and each missing or different month", () => {
    const status = {
      reducingPowerDemand: false,
      dataIntervalSeconds: 300,
      billingRates: [{ ...november, offPeakRate: "90" }],
    };
    const wanted = { demandReduction: true, dataIntervalSeconds: 120, billingRates: [november, december] };
    assert.deepEqual(settingsToResend(status, wanted), [
      { command: "reduce_power_demand_on", params: {} },
      { command: "set_data_interval", params: { seconds: 120 } },
      { command: "put_billing_rates", params: november },
      { command: "put_billing_rates", params: december },
    ]);
  });

  it("lifts a reduction the meter still applies after the controller lifted it", () => {
    const status = { reducingPowerDemand: true, dataIntervalSeconds: 300, billingRates: [] };
    assert.deepEqual(
      settingsToResend(status, { demandReduction: false, dataIntervalSeconds: 300, billingRates: [] }),
      [{ command: "reduce_power_demand_off", params: {} }],
    );
  });
});
