import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, it } from "node:test";

import { openControllerDatabase } from "./controllerDatabase.js";
import { ControllerStore } from "./controllerStore.js";
import { MeterOutbox } from "./meterOutbox.js";

const A = "0x00000000000000000000000000000000000000AA";
const B = "0x00000000000000000000000000000000000000bb";
const rates = (month: string, peakRate: string) => ({
  command: "put_billing_rates" as const,
  params: { month, peakRate, offPeakRate: "100", peakStartHour: 17, peakEndHour: 21 },
});

void describe("ControllerStore and MeterOutbox", () => {
  let dir: string;
  let db: DatabaseSync;
  const path = () => join(dir, "controller.db");

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-controller-store-"));
    db = openControllerDatabase(path());
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("never hands out a nonce twice, across restarts and after a meter reports a higher one", () => {
    let store = new ControllerStore(db);
    const first = [store.nextNonce(), store.nextNonce(), store.nextNonce()];
    assert.deepEqual(first, [1n, 2n, 3n]);
    db.close();
    db = openControllerDatabase(path());
    store = new ControllerStore(db);
    const afterRestart = store.nextNonce();
    assert.ok(afterRestart > 3n, `${afterRestart} must be above every nonce used before the restart`);
    store.raiseNonceAbove(50_000n);
    assert.equal(store.nextNonce(), 50_001n);
    store.raiseNonceAbove(10n);
    assert.equal(store.nextNonce(), 50_002n, "a lower report changes nothing");
    db.close();
    db = openControllerDatabase(path());
    assert.ok(new ControllerStore(db).nextNonce() > 50_002n);
  });

  it("keeps Meter_States, Meter_Last_Update and the stored sequences per meter, whatever the address case", () => {
    const store = new ControllerStore(db);
    store.addMeter(A, 0.3);
    store.addMeter(B, null);
    assert.deepEqual(store.meterState(A.toLowerCase()), {
      meter: A.toLowerCase(),
      isOn: true,
      sharingPower: false,
      aggregating: false,
      reducingPowerDemand: false,
      batteryThreshold: 0.3,
      batteryPercent: null,
      batteryReportedMs: null,
      lastUpdateMs: null,
      storedThrough: 0n,
      acknowledgedThrough: 0n,
    });
    store.recordReport(
      A,
      { isOn: true, sharingPower: true, aggregating: true, reducingPowerDemand: false, batteryPercent: 0.55 },
      1_000,
    );
    store.setLastUpdate(A, 2_000);
    store.setSequences(A, 12n, 10n);
    store.setFlag(A, "reducingPowerDemand", true);
    const a = store.meterState(A);
    assert.deepEqual(
      [a.sharingPower, a.reducingPowerDemand, a.batteryPercent, a.batteryReportedMs, a.lastUpdateMs],
      [true, true, 0.55, 1_000, 2_000],
    );
    assert.deepEqual([a.storedThrough, a.acknowledgedThrough], [12n, 10n]);
    assert.throws(() => store.setSequences(A, 5n, 10n), "acknowledged beyond stored is refused");
    assert.equal(store.meterState(B).batteryThreshold, null);
  });

  it("delivers in order per meter; a newer command for the same setting replaces the pending one", () => {
    const outbox = new MeterOutbox(db);
    outbox.enqueue([A, B], { command: "share_power_on", params: { batteryThreshold: 0.3 } }, 1);
    outbox.enqueue([A], rates("2026-11", "300"), 2);
    outbox.enqueue([A], rates("2026-12", "310"), 3);
    outbox.enqueue([A], { command: "share_power_off", params: {} }, 4);
    outbox.enqueue([A], rates("2026-11", "305"), 5);
    const forA = outbox.pending().filter((e) => e.meter === A.toLowerCase());
    assert.deepEqual(
      forA.map((e) => e.command),
      [rates("2026-12", "310"), { command: "share_power_off", params: {} }, rates("2026-11", "305")],
    );
    assert.equal(outbox.pendingInSlot(A, "share_power")?.command.command, "share_power_off");
    assert.equal(outbox.pendingInSlot(B, "share_power")?.command.command, "share_power_on");

    const first = outbox.next(A)!;
    outbox.delivered(first.id, 10);
    const second = outbox.next(A)!;
    assert.equal(second.command.command, "share_power_off");
    outbox.refused(second.id, "refused with 401", 11);
    const third = outbox.next(A)!;
    outbox.attemptFailed(third.id, "unreachable");
    assert.deepEqual(outbox.next(A), { ...third, attempts: 1 }, "a failed attempt keeps its place");
    // Two superseded, one delivered, one refused; the pending ones stay.
    assert.equal(outbox.collect(12), 4);
    assert.equal(outbox.pending().length, 2);
  });
});
