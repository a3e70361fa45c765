import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  type BatteryState,
  batteryReportTypes,
  type Clock,
  gatewayDomain,
  mutableTypes,
} from "@gridmesh/contracts";
import { type BaseWallet, Wallet } from "ethers";

import { createLogger } from "../../common/logger.js";
import { createDatabase, type Database, migrate } from "../../store/index.js";
import {
  batteryReportPageSchema,
  batteryReportReceiptSchema,
  latestBatteryReportSchema,
} from "../batterySchemas.js";
import { CHAIN_ID, startApiServer, type ApiServer } from "../testing/apiTestContext.js";
import { MAX_REPORT_AHEAD_SECONDS } from "./batteryRoutes.js";

const logger = createLogger({ level: "silent" });
const NOW_S = 1_790_000_000;
const clock: Clock = { now: () => NOW_S * 1000, delayUntil: () => 0 };

const cell = (stateOfChargePpm: number): BatteryState => ({
  name: "home",
  kind: "physical",
  source: "",
  error: "",
  capacityMah: 100_000,
  stateOfChargePpm,
  expectedCapacityMah: 100_000,
  expectedStateOfChargePpm: stateOfChargePpm,
  voltageMv: 51_200,
  currentMa: -4_000,
  maxChargeMa: 50_000,
  maxDischargeMa: 50_000,
  chargedMah: 0,
  dischargedMah: 0,
});
const partition = (name: string, stateOfChargePpm: number): BatteryState => ({
  ...cell(stateOfChargePpm),
  name,
  kind: "partition",
  source: "home",
  capacityMah: 50_000,
  expectedCapacityMah: 50_000,
  chargedMah: 1_200,
  dischargedMah: 300,
});

async function signed(
  wallet: BaseWallet,
  takenAt: number,
  batteries: BatteryState[],
  meter = wallet.address,
) {
  const report = { meter, takenAt, batteries };
  const signature = await wallet.signTypedData(
    gatewayDomain(CHAIN_ID),
    mutableTypes(batteryReportTypes),
    report,
  );
  return { report, signature };
}

describe("battery report endpoints", () => {
  let db: Database;
  let api: ApiServer;
  const meter = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const retired = Wallet.createRandom();

  before(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
    for (const [w, status] of [
      [meter, "active"],
      [retired, "deactivated"],
    ] as const) {
      await db.query(
        "INSERT INTO devices (meter, owner, device_id, status, updated_at) VALUES ($1, $2, $3, $4, now())",
        [
          w.address.toLowerCase(),
          Wallet.createRandom().address.toLowerCase(),
          `0x${"11".repeat(32)}`,
          status,
        ],
      );
    }
    api = await startApiServer(db, { operator: false, clock });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  const post = (body: unknown) =>
    api.call("/v1/battery-reports", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const storedCount = async () =>
    Number((await db.query<{ n: string }>("SELECT count(*)::text AS n FROM battery_reports")).rows[0]!.n);
  const address = meter.address.toLowerCase();

  void it("stores a signed report and serves it as the latest, partitions included", async () => {
    const body = await signed(meter, NOW_S - 900, [
      cell(400_000),
      partition("household", 500_000),
      partition("community", 300_000),
    ]);
    const res = await post(body);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(batteryReportReceiptSchema.parse(res.body), {
      meter: address,
      takenAt: NOW_S - 900,
      status: "stored",
    });

    const latest = await api.call(`/v1/devices/${meter.address}/battery`);
    assert.equal(latest.status, 200, latest.text);
    const { latest: report } = latestBatteryReportSchema.parse(latest.body);
    assert.ok(report !== null);
    assert.equal(report.takenAt, NOW_S - 900);
    assert.deepEqual(report.batteries, body.report.batteries);
    // What is served verifies against the meter's key: anyone can check the gateway kept it as signed.
    assert.equal(report.signature, body.signature.toLowerCase());
  });

  void it("takes the same report again as a duplicate and refuses an older or equally dated other one", async () => {
    const again = await signed(meter, NOW_S - 900, [
      cell(400_000),
      partition("household", 500_000),
      partition("community", 300_000),
    ]);
    const dup = await post(again);
    assert.equal(dup.status, 200, dup.text);
    assert.equal(batteryReportReceiptSchema.parse(dup.body).status, "duplicate");

    const before = await storedCount();
    for (const takenAt of [NOW_S - 900, NOW_S - 1800]) {
      const res = await post(await signed(meter, takenAt, [cell(999_000)]));
      assert.equal(res.status, 409, res.text);
      assert.match(res.text, /a report must be newer/);
    }
    assert.equal(await storedCount(), before);
    const { latest } = latestBatteryReportSchema.parse(
      (await api.call(`/v1/devices/${address}/battery`)).body,
    );
    assert.equal(latest?.batteries[0]?.stateOfChargePpm, 400_000, "the stored report is unchanged");
  });

  void it("refuses forged, foreign, deactivated and far-future reports, storing nothing", async () => {
    const before = await storedCount();
    // Signed by another key in the meter's name.
    const forged = await signed(stranger, NOW_S, [cell(100_000)], meter.address);
    let res = await post(forged);
    assert.equal(res.status, 403, res.text);
    assert.match(res.text, /not signed by meter/);
    // A genuine report, then altered after signing.
    const altered = await signed(meter, NOW_S, [cell(100_000)]);
    altered.report.batteries[0]!.stateOfChargePpm = 900_000;
    res = await post(altered);
    assert.equal(res.status, 403, res.text);
    assert.match(res.text, /not signed by meter/);
    // A key the registry does not know, and one it deactivated.
    res = await post(await signed(stranger, NOW_S, [cell(100_000)]));
    assert.equal(res.status, 403, res.text);
    assert.match(res.text, /not in the registry/);
    res = await post(await signed(retired, NOW_S, [cell(100_000)]));
    assert.equal(res.status, 403, res.text);
    assert.match(res.text, /deactivated/);
    // Dated beyond the clock skew allowed: it would block the meter's next genuine reports.
    res = await post(await signed(meter, NOW_S + MAX_REPORT_AHEAD_SECONDS + 1, [cell(100_000)]));
    assert.equal(res.status, 409, res.text);
    assert.match(res.text, /ahead of the gateway's clock/);
    assert.equal(await storedCount(), before);
  });

  void it("refuses malformed reports by field with 400", async () => {
    const before = await storedCount();
    const good = await signed(meter, NOW_S, [cell(100_000)]);
    const cases: [unknown, RegExp][] = [
      [{ ...good, report: { ...good.report, batteries: [cell(1_000_001)] } }, /stateOfChargePpm/],
      [{ ...good, report: { ...good.report, batteries: [{ ...cell(1), kind: "partition" }] } }, /source/],
      [{ ...good, report: { ...good.report, batteries: [cell(1), cell(2)] } }, /listed twice/],
      [{ ...good, report: { ...good.report, batteries: [] } }, /batteries/],
      [{ ...good, report: { ...good.report, takenAt: -1 } }, /takenAt/],
      [{ ...good, signature: "0x1234" }, /signature/],
      [{ report: good.report }, /signature/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, message);
    }
    assert.equal(await storedCount(), before);
  });

  void it("serves a meter's history oldest first, bounded by from/to and paged", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await post(await signed(meter, NOW_S - 300 + i * 60, [cell(410_000 + i * 10_000)]));
      assert.equal(res.status, 200, res.text);
    }
    const page1 = batteryReportPageSchema.parse(
      (await api.call(`/v1/devices/${address}/battery-reports?from=${NOW_S - 300}&limit=3`)).body,
    );
    assert.deepEqual(
      page1.items.map((r) => r.takenAt),
      [NOW_S - 300, NOW_S - 240, NOW_S - 180],
    );
    assert.ok(page1.nextCursor !== null);
    const page2 = batteryReportPageSchema.parse(
      (
        await api.call(
          `/v1/devices/${address}/battery-reports?from=${NOW_S - 300}&limit=3&cursor=${page1.nextCursor}`,
        )
      ).body,
    );
    assert.deepEqual(
      page2.items.map((r) => r.takenAt),
      [NOW_S - 120, NOW_S - 60],
    );
    assert.equal(page2.nextCursor, null);
    const all = batteryReportPageSchema.parse(
      (await api.call(`/v1/devices/${address}/battery-reports`)).body,
    );
    assert.equal(all.items[0]!.takenAt, NOW_S - 900);
    assert.equal(all.items.length, 6);
    const bad = await api.call(`/v1/devices/${address}/battery-reports?from=10&to=5`);
    assert.equal(bad.status, 400, bad.text);
    const none = latestBatteryReportSchema.parse(
      (await api.call(`/v1/devices/${stranger.address}/battery`)).body,
    );
    assert.equal(none.latest, null);
  });
});
