import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { batteryPolicy, type BatteryPolicyBattery, type BatteryPolicyState } from "./batteryPolicy.js";

// 50 V, 100 Ah, 80 % full; 300 s intervals, so one interval is 1/12 h.
const battery: BatteryPolicyBattery = {
  voltage: 50,
  current: 0,
  capacity: 100,
  stateOfCharge: 0.8,
  maxChargeCurrent: 30,
  maxDischargeCurrent: 40,
};
const idle: BatteryPolicyState = {
  isOn: true,
  sharingPower: false,
  reducingPowerDemand: false,
  batteryThreshold: null,
  dataIntervalSeconds: 300,
};
const sharing = { ...idle, sharingPower: true, batteryThreshold: 0.5 };
const reducing = { ...idle, reducingPowerDemand: true };

describe("batteryPolicy", () => {
  it("rests when no function is on and the home imports", () => {
    assert.deepEqual(batteryPolicy(idle, battery, 2000), { current: 0, reason: "idle" });
  });

  it("does nothing at all for a meter that is off", () => {
    assert.deepEqual(batteryPolicy({ ...sharing, isOn: false, reducingPowerDemand: true }, battery, 2000), {
      current: 0,
      reason: "off",
    });
  });

  describe("energy sharing", () => {
    it("discharges at the battery's limit when plenty lies above the threshold", () => {
      // 0.3 × 100 Ah over 1/12 h would be 360 A; the battery delivers 40 A.
      assert.deepEqual(batteryPolicy(sharing, battery, 0), { current: 40, reason: "share" });
    });

    it("shares only what keeps the battery at the threshold by the interval's end", () => {
      // 0.01 × 100 Ah = 1 Ah above the threshold: 12 A for 1/12 h, or 1 A for a whole hour.
      assert.deepEqual(batteryPolicy(sharing, { ...battery, stateOfCharge: 0.51 }, 0), {
        current: 12,
        reason: "share",
      });
      assert.deepEqual(
        batteryPolicy({ ...sharing, dataIntervalSeconds: 3600 }, { ...battery, stateOfCharge: 0.51 }, 0),
        {
          current: 1,
          reason: "share",
        },
      );
    });

    it("never discharges to share at or below the threshold", () => {
      assert.deepEqual(batteryPolicy(sharing, { ...battery, stateOfCharge: 0.5 }, 1500), {
        current: 0,
        reason: "idle",
      });
      assert.deepEqual(batteryPolicy(sharing, { ...battery, stateOfCharge: 0.3 }, 1500), {
        current: 0,
        reason: "idle",
      });
    });

    it("does not share once sharing is off, however full the battery", () => {
      assert.deepEqual(
        batteryPolicy({ ...sharing, sharingPower: false }, { ...battery, stateOfCharge: 1 }, 1500),
        {
          current: 0,
          reason: "idle",
        },
      );
    });

    it("stores the home's surplus while below the threshold", () => {
      // 1000 W exported at 50 V is 20 A of charge.
      assert.deepEqual(batteryPolicy(sharing, { ...battery, stateOfCharge: 0.3 }, -1000), {
        current: -20,
        reason: "store-surplus",
      });
    });
  });

  describe("demand reduction", () => {
    it("covers the home's import", () => {
      // 1500 W at 50 V.
      assert.deepEqual(batteryPolicy(reducing, battery, 1500), { current: 30, reason: "reduce-demand" });
    });

    it("stops at the battery's discharge limit", () => {
      assert.deepEqual(batteryPolicy(reducing, battery, 3000), { current: 40, reason: "reduce-demand" });
    });

    it("counts the battery's present output as part of the home's demand", () => {
      // The meter sees 500 W while the battery gives 20 A × 50 V = 1000 W: the home needs 1500 W.
      assert.deepEqual(batteryPolicy(reducing, { ...battery, current: 20 }, 500), {
        current: 30,
        reason: "reduce-demand",
      });
    });

    it("discharges no more than the charge left can sustain for the interval", () => {
      // 1 Ah left: 12 A for 1/12 h.
      assert.deepEqual(batteryPolicy(reducing, { ...battery, stateOfCharge: 0.01 }, 1500), {
        current: 12,
        reason: "reduce-demand",
      });
      assert.deepEqual(batteryPolicy(reducing, { ...battery, stateOfCharge: 0 }, 1500), {
        current: 0,
        reason: "idle",
      });
    });

    it("may use the sharing reserve for the home itself", () => {
      // Sharing alone would give 0.005 × 100 × 12 = 6 A; the home needs 30 A.
      assert.deepEqual(
        batteryPolicy({ ...sharing, reducingPowerDemand: true }, { ...battery, stateOfCharge: 0.505 }, 1500),
        {
          current: 30,
          reason: "reduce-demand",
        },
      );
      // With more above the threshold, sharing's 40 A covers the home first and exports the rest.
      assert.deepEqual(batteryPolicy({ ...sharing, reducingPowerDemand: true }, battery, 1500), {
        current: 40,
        reason: "share",
      });
    });

    it("still stores surplus while the home exports", () => {
      assert.deepEqual(batteryPolicy(reducing, battery, -1000), { current: -20, reason: "store-surplus" });
    });
  });

  describe("charging from surplus", () => {
    it("stays within the charge limit and the room left", () => {
      // 2500 W would be 50 A; the battery takes 30 A.
      assert.deepEqual(batteryPolicy(idle, battery, -2500), { current: -30, reason: "store-surplus" });
      // 1 Ah of room: 12 A for 1/12 h.
      assert.deepEqual(batteryPolicy(idle, { ...battery, stateOfCharge: 0.99 }, -2500), {
        current: -12,
        reason: "store-surplus",
      });
      assert.deepEqual(batteryPolicy(idle, { ...battery, stateOfCharge: 1 }, -2500), {
        current: 0,
        reason: "idle",
      });
    });

    it("sees surplus the battery is already storing", () => {
      // The meter sees 0 W while the battery charges at 10 A: the home exports 500 W.
      assert.deepEqual(batteryPolicy(idle, { ...battery, current: -10 }, 0), {
        current: -10,
        reason: "store-surplus",
      });
    });
  });

  it("truncates to whole milliamperes", () => {
    // 1001 W / 48 V = 20.854166… A.
    assert.deepEqual(batteryPolicy(reducing, { ...battery, voltage: 48 }, 1001), {
      current: 20.854,
      reason: "reduce-demand",
    });
  });

  it("rests when the voltage or the power is unknown", () => {
    assert.deepEqual(batteryPolicy(reducing, { ...battery, voltage: 0 }, 1500), {
      current: 0,
      reason: "idle",
    });
    assert.deepEqual(batteryPolicy(reducing, battery, Number.NaN), { current: 0, reason: "idle" });
  });

  it("never exceeds a limit and never shares below the threshold (2000 random cases)", () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const b: BatteryPolicyBattery = {
        voltage: 40 + random() * 20,
        current: (random() - 0.5) * 40,
        capacity: 1 + random() * 200,
        stateOfCharge: random(),
        maxChargeCurrent: random() * 50,
        maxDischargeCurrent: random() * 50,
      };
      const state: BatteryPolicyState = {
        isOn: true,
        sharingPower: random() < 0.5,
        reducingPowerDemand: random() < 0.5,
        batteryThreshold: random(),
        dataIntervalSeconds: 10 + Math.floor(random() * 86_390),
      };
      const { current, reason } = batteryPolicy(state, b, (random() - 0.5) * 10_000);
      assert.ok(
        current <= b.maxDischargeCurrent && -current <= b.maxChargeCurrent,
        `case ${i}: ${current} A`,
      );
      const hours = state.dataIntervalSeconds / 3600;
      assert.ok(
        current * hours <= b.stateOfCharge * b.capacity + 1e-9,
        `case ${i}: discharges more than is stored`,
      );
      assert.ok(
        -current * hours <= (1 - b.stateOfCharge) * b.capacity + 1e-9,
        `case ${i}: charges past full`,
      );
      if (reason === "share") {
        const above = (b.stateOfCharge - state.batteryThreshold!) * b.capacity;
        assert.ok(current > 0 && current * hours <= above + 1e-9, `case ${i}: shares below the threshold`);
      }
    }
  });
});
