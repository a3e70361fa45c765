import assert from "node:assert/strict";
import { beforeEach, afterEach, describe, it } from "node:test";

import { signedReadingFromJson, type Address, type MeterCommandRequest } from "@gridmesh/contracts";

import { simulatedBattery } from "../bal/simulatedBattery.js";
import { recoverReadingSigner } from "../signing/readingSigner.js";
import type { ReadingAggregate } from "./aggregateReadings.js";
import {
  CommandExecutor,
  type AcknowledgeResult,
  type BillingRatesResult,
  type MeterStatus,
  type ReadingsResult,
  type StateResult,
} from "./commandExecutor.js";
import { CommandReplayedError } from "./commandErrors.js";
import { appendReadings, meterAddress, readingDomain, tempStore, type TempStore } from "./commandTesting.js";
import { DEFAULT_METER_STATE, readMeterState, type MeterState } from "./meterState.js";

const controller = "0x00000000000000000000000000000000000000C1" as Address;
const otherController = "0x00000000000000000000000000000000000000c2" as Address;
const now = 1_767_225_600_000;
const clock = { now: () => now };

describe("CommandExecutor", () => {
  let temp: TempStore;
  let nonce: bigint;
  const executor = (options: { withBattery?: boolean; onStateChange?: (s: MeterState) => void } = {}) =>
    new CommandExecutor({
      store: temp.store,
      clock,
      ...(options.withBattery && {
        battery: simulatedBattery(
          "home",
          {
            capacity: 100,
            stateOfCharge: 0.64,
            maxChargeCurrent: 30,
            maxDischargeCurrent: 40,
            voltage: 51.2,
          },
          clock.now,
        ).battery,
      }),
      ...(options.onStateChange && { onStateChange: options.onStateChange }),
    });
  const run = (e: CommandExecutor, request: MeterCommandRequest) =>
    e.execute(request, { controller, nonce: ++nonce });

  beforeEach(() => {
    temp = tempStore();
    nonce = 0n;
  });
  afterEach(() => temp.remove());

  describe("get_readings_since", () => {
    it("returns signed readings after the sequence, oldest first, as wire JSON", async () => {
      await appendReadings(temp.store, [100n, 101n, 102n, 103n, 104n]);
      const result = (await run(executor(), {
        command: "get_readings_since",
        params: { sequence: 1n, limit: 3 },
      })) as ReadingsResult;
      assert.deepEqual(
        result.readings.map((r) => r.reading.sequence),
        ["2", "3", "4"],
      );
      assert.equal(result.more, true);
      // What the controller receives is exactly what the meter key signed.
      for (const json of result.readings) {
        assert.equal(recoverReadingSigner(signedReadingFromJson(json), readingDomain), meterAddress);
      }
      const rest = (await run(executor(), {
        command: "get_readings_since",
        params: { sequence: 4n, limit: 3 },
      })) as ReadingsResult;
      assert.deepEqual(
        rest.readings.map((r) => r.reading.sequence),
        ["5"],
      );
      assert.equal(rest.more, false);
    });

    it("changes no reading", async () => {
      await appendReadings(temp.store, [100n, 101n]);
      await run(executor(), { command: "get_readings_since", params: { sequence: 0n, limit: 10 } });
      assert.deepEqual(temp.store.counts(), { total: 2, pending: 2, delivered: 0, expired: 0 });
    });
  });

  describe("acknowledge", () => {
    it("marks the listed readings delivered via the controller and reports the rest", async () => {
      await appendReadings(temp.store, [100n, 101n, 102n, 103n]);
      const e = executor();
      await run(e, { command: "acknowledge", params: { sequences: [1n] } });
      const result = (await run(e, {
        command: "acknowledge",
        params: { sequences: [1n, 2n, 3n, 9n, 77n] },
      })) as AcknowledgeResult;
      assert.deepEqual(result, { acknowledged: ["2", "3"], alreadyDelivered: ["1"], unknown: ["9", "77"] });
      assert.deepEqual(temp.store.counts(), { total: 4, pending: 1, delivered: 3, expired: 0 });
      assert.equal(temp.store.get(2n)?.deliveredVia, "controller");
      assert.equal(temp.store.get(2n)?.deliveredMs, now);
      assert.equal(temp.store.get(4n)?.deliveredMs, null);
      assert.equal(e.lastNonce(controller), 2n);
    });

    it("refuses a replayed nonce before touching any reading", async () => {
      await appendReadings(temp.store, [100n, 101n]);
      const e = executor();
      await e.execute({ command: "status", params: {} }, { controller, nonce: 5n });
      await assert.rejects(
        e.execute({ command: "acknowledge", params: { sequences: [1n] } }, { controller, nonce: 5n }),
        CommandReplayedError,
      );
      assert.deepEqual(temp.store.counts(), { total: 2, pending: 2, delivered: 0, expired: 0 });
    });
  });

  describe("aggregate", () => {
    it("lossless: totals plus each interval's own energy, with gaps and missing sequences reported", async () => {
      // Intervals 103 and 104 are missing: 2 × 50 Wh moved through the registers meanwhile.
      await appendReadings(temp.store, [100n, 101n, 102n, 105n, 106n]);
      const result = (await run(executor(), {
        command: "aggregate",
        params: { fromSequence: 2n, toSequence: 7n, lossless: true },
      })) as ReadingAggregate;
      assert.deepEqual(result, {
        fromSequence: "2",
        toSequence: "7",
        lossless: true,
        readings: 4,
        firstInterval: "101",
        lastInterval: "106",
        importWh: String(102 + 103 + 104 + 105),
        exportWh: String(20 + 30 + 40 + 50),
        missingSequences: [{ from: "6", to: "7" }],
        gaps: [
          { afterSequence: "3", beforeSequence: "4", missingIntervals: "2", importWh: "100", exportWh: "0" },
        ],
        intervals: [
          { sequence: "2", interval: "101", importWh: "102", exportWh: "20" },
          { sequence: "3", interval: "102", importWh: "103", exportWh: "30" },
          { sequence: "4", interval: "105", importWh: "104", exportWh: "40" },
          { sequence: "5", interval: "106", importWh: "105", exportWh: "50" },
        ],
      });
      assert.deepEqual(
        {
          aggregating: readMeterState(temp.store).aggregating,
          lossless: readMeterState(temp.store).aggregationLossless,
        },
        { aggregating: true, lossless: true },
      );
    });

    it("lossy: the same totals and gaps without the intervals", async () => {
      await appendReadings(temp.store, [100n, 101n, 102n, 105n, 106n]);
      const result = (await run(executor(), {
        command: "aggregate",
        params: { fromSequence: 1n, toSequence: 5n, lossless: false },
      })) as ReadingAggregate;
      assert.equal(result.intervals, undefined);
      assert.equal(result.importWh, String(101 + 102 + 103 + 104 + 105));
      assert.equal(result.gaps.length, 1);
      assert.deepEqual(result.missingSequences, []);
      assert.equal(readMeterState(temp.store).aggregationLossless, false);
    });

    it("reports a range the store does not hold as missing", async () => {
      const result = (await run(executor(), {
        command: "aggregate",
        params: { fromSequence: 1n, toSequence: 3n, lossless: true },
      })) as ReadingAggregate;
      assert.deepEqual(
        {
          readings: result.readings,
          importWh: result.importWh,
          missing: result.missingSequences,
          intervals: result.intervals,
        },
        { readings: 0, importWh: "0", missing: [{ from: "1", to: "3" }], intervals: [] },
      );
    });
  });

  describe("meter state", () => {
    it("starts at the defaults: on, nothing shared or reduced, 300 s data interval", () => {
      assert.deepEqual(readMeterState(temp.store), DEFAULT_METER_STATE);
      assert.equal(DEFAULT_METER_STATE.dataIntervalSeconds, 300);
    });

    it("keeps every setting across a restart", async () => {
      const changes: MeterState[] = [];
      const e = executor({ onStateChange: (s) => changes.push(s) });
      await run(e, { command: "set_data_interval", params: { seconds: 60 } });
      await run(e, { command: "reduce_power_demand_on", params: {} });
      await run(e, { command: "share_power_on", params: { batteryThreshold: 0.35 } });
      const rates = {
        month: "2026-01",
        peakRate: "250000",
        offPeakRate: "120000",
        peakStartHour: 17,
        peakEndHour: 21,
      };
      await run(e, { command: "put_billing_rates", params: rates });
      const expected: MeterState = {
        ...DEFAULT_METER_STATE,
        dataIntervalSeconds: 60,
        reducingPowerDemand: true,
        sharingPower: true,
        batteryThreshold: 0.35,
      };
      assert.deepEqual(changes.at(-1), expected);
      assert.equal(changes.length, 3);

      const reopened = new CommandExecutor({ store: temp.reopen(), clock });
      assert.deepEqual(readMeterState(temp.store), expected);
      assert.equal(reopened.lastNonce(controller), 4n);
      const status = (await reopened.execute(
        { command: "status", params: {} },
        { controller, nonce: 5n },
      )) as MeterStatus;
      assert.deepEqual(status.billingRates, [{ ...rates, receivedMs: now }]);
    });

    it("turns functions off again and keeps the threshold as the reported reserve", async () => {
      const e = executor();
      await run(e, { command: "share_power_on", params: { batteryThreshold: 0.5 } });
      await run(e, { command: "reduce_power_demand_on", params: {} });
      const shareOff = (await run(e, { command: "share_power_off", params: {} })) as StateResult;
      const reduceOff = (await run(e, { command: "reduce_power_demand_off", params: {} })) as StateResult;
      assert.equal(shareOff.state.sharingPower, false);
      assert.equal(reduceOff.state.reducingPowerDemand, false);
      temp.reopen();
      assert.equal(readMeterState(temp.store).batteryThreshold, 0.5);
    });

    it("replaces a month's rates and keeps the newest thirteen months", async () => {
      const e = executor();
      const rates = (month: string, peakRate: string) => ({
        month,
        peakRate,
        offPeakRate: "100",
        peakStartHour: 8,
        peakEndHour: 20,
      });
      for (let m = 1; m <= 12; m++) {
        await run(e, {
          command: "put_billing_rates",
          params: rates(`2025-${String(m).padStart(2, "0")}`, "200"),
        });
      }
      await run(e, { command: "put_billing_rates", params: rates("2026-01", "200") });
      await run(e, { command: "put_billing_rates", params: rates("2026-02", "200") });
      const last = (await run(e, {
        command: "put_billing_rates",
        params: rates("2026-01", "300"),
      })) as BillingRatesResult;
      assert.equal(last.billingRates.length, 13);
      assert.equal(last.billingRates[0]!.month, "2025-02");
      assert.deepEqual(
        last.billingRates.filter((r) => r.month === "2026-01").map((r) => r.peakRate),
        ["300"],
      );
    });
  });

  describe("status", () => {
    it("reports the state, the battery, the last reading and the counts", async () => {
      await appendReadings(temp.store, [100n, 101n, 102n]);
      const e = executor({ withBattery: true });
      await run(e, { command: "share_power_on", params: { batteryThreshold: 0.4 } });
      await run(e, { command: "acknowledge", params: { sequences: [3n] } });
      const status = (await run(e, { command: "status", params: {} })) as MeterStatus;
      assert.equal(status.meter, meterAddress);
      assert.equal(status.atMs, now);
      assert.deepEqual(
        {
          isOn: status.isOn,
          sharingPower: status.sharingPower,
          aggregating: status.aggregating,
          reducingPowerDemand: status.reducingPowerDemand,
          batteryThreshold: status.batteryThreshold,
          batteryStateOfCharge: status.batteryStateOfCharge,
          dataIntervalSeconds: status.dataIntervalSeconds,
        },
        {
          isOn: true,
          sharingPower: true,
          aggregating: false,
          reducingPowerDemand: false,
          batteryThreshold: 0.4,
          batteryStateOfCharge: 0.64,
          dataIntervalSeconds: 300,
        },
      );
      assert.equal(status.battery?.voltage, 51.2);
      assert.equal(status.lastReading?.reading.sequence, "3");
      assert.equal(status.lastReading?.deliveredMs, now);
      assert.deepEqual(status.counts, { total: 3, pending: 2, delivered: 1, expired: 0 });
      // The result must survive the trip to JSON unchanged (no bigints, no undefined).
      assert.deepEqual(JSON.parse(JSON.stringify(status)), status);
    });

    it("reports a battery that cannot be read instead of failing", async () => {
      const e = new CommandExecutor({
        store: temp.store,
        clock,
        battery: {
          name: "gone",
          getStatus: () => Promise.reject(new Error("BMS not answering")),
          setCurrent: () => Promise.resolve(),
        },
      });
      const status = (await run(e, { command: "status", params: {} })) as MeterStatus;
      assert.equal(status.battery, null);
      assert.equal(status.batteryStateOfCharge, null);
      assert.equal(status.batteryError, "BMS not answering");
      assert.equal(status.lastReading, null);
    });
  });

  describe("nonces", () => {
    it("must grow per controller; a refused command changes nothing", async () => {
      const e = executor();
      await e.execute({ command: "set_data_interval", params: { seconds: 60 } }, { controller, nonce: 10n });
      for (const stale of [10n, 9n]) {
        await assert.rejects(
          e.execute({ command: "set_data_interval", params: { seconds: 120 } }, { controller, nonce: stale }),
          (error: unknown) =>
            error instanceof CommandReplayedError &&
            error.status === 409 &&
            error.message.includes(`nonce ${stale} is not above 10`),
        );
      }
      assert.equal(readMeterState(temp.store).dataIntervalSeconds, 60);
      assert.equal(e.lastNonce(controller), 10n);
      // Another controller keeps its own count.
      await e.execute(
        { command: "set_data_interval", params: { seconds: 120 } },
        { controller: otherController, nonce: 1n },
      );
      assert.equal(readMeterState(temp.store).dataIntervalSeconds, 120);
      // A command that fails while applied rolls back with its nonce.
      temp.store.putState("controller.meterState", { dataIntervalSeconds: 5 });
      await assert.rejects(
        e.execute({ command: "reduce_power_demand_on", params: {} }, { controller, nonce: 11n }),
        /the stored meter state is invalid/,
      );
      assert.equal(e.lastNonce(controller), 10n);
      temp.store.putState("controller.meterState", DEFAULT_METER_STATE);
      // Addresses compare case-insensitively: checksummed or not, it is the same controller.
      await assert.rejects(
        e.execute(
          { command: "status", params: {} },
          { controller: controller.toLowerCase() as Address, nonce: 10n },
        ),
        CommandReplayedError,
      );
    });
  });
});
