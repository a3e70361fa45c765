import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";

import { Wallet } from "ethers";
import { pino } from "pino";

import type { Address } from "@gridmesh/contracts";

import { NetworkedBattery } from "../bal/network/networkedBattery.js";
import { commandClient } from "../commands/commandTesting.js";
import { createKeystore } from "../signing/keystore.js";
import { tempDir } from "../testing/tempDir.js";
import { parseAgentConfig } from "./agentConfig.js";
import { MeterAgent } from "./meterAgent.js";

const SECRET = "a shared secret of the microgrid controller, 32+ chars";

/**
 * The whole agent in one process, as the microgrid controller sees it: readings made from a
 * simulated home, pulled and acknowledged with signed commands; sharing switched on by command
 * and acted on by the battery policy; the home battery served over the networked BAL.
 */
describe(
  "MeterAgent with controller commands, battery policy and battery server",
  { timeout: 60_000 },
  () => {
    const controller = Wallet.createRandom();
    let agent: MeterAgent;
    let meter: Address;
    let cleanup: () => Promise<void>;
    const command = commandClient({ url: () => agent.commandsUrl, controller, meter: () => meter });

    before(async () => {
      const t = await tempDir();
      cleanup = t.cleanup;
      const dir = t.dir;
      process.env.GRIDMESH_AGENT_TEST_PASSPHRASE = "agent test passphrase";
      process.env.GRIDMESH_AGENT_TEST_BATTERY_SECRET = SECRET;
      meter = (await createKeystore(join(dir, "key.json"), "agent test passphrase", { scryptN: 1024 }))
        .address as Address;
      await writeFile(
        join(dir, "battery.json"),
        JSON.stringify({
          batteries: [
            {
              name: "home",
              kind: "simulated",
              capacity: 100,
              stateOfCharge: 0.9,
              voltage: 48,
              maxChargeCurrent: 20,
              maxDischargeCurrent: 20,
            },
          ],
          aggregators: [],
          splitters: [],
        }),
      );
      const now = Date.now();
      const config = parseAgentConfig(
        {
          dataDir: "data",
          key: { keystore: "key.json", passphraseEnv: "GRIDMESH_AGENT_TEST_PASSPHRASE" },
          chain: { chainId: 31337, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
          intervalSeconds: 60,
          boundaryToleranceMs: 50_000,
          source: { kind: "simulated", originMs: Date.UTC(2026, 0, 1), startImportWh: 1000 },
          uplink: { kind: "controller" },
          commands: { port: 0, controllers: [controller.address] },
          battery: { topology: "battery.json", name: "home" },
          batteryServer: {
            port: 0,
            clients: [{ keyId: "mgc", secretEnv: "GRIDMESH_AGENT_TEST_BATTERY_SECRET" }],
          },
          clock: { originMs: now, speed: 600 },
          log: { level: "silent" },
        },
        dir,
      );
      agent = await MeterAgent.start(config, pino({ level: "silent" }));
    });

    after(async () => {
      await agent.stop();
      await cleanup();
    });

    it("hands readings to the controller and forgets them only once acknowledged", async () => {
      while (agent.store.counts().total < 3) await sleep(20);
      const got = await command("get_readings_since", { sequence: "0", limit: 10 });
      assert.equal(got.status, 200);
      const readings = got.body.result.readings as { reading: { sequence: string } }[];
      assert.ok(readings.length >= 3);
      assert.deepEqual(
        readings.slice(0, 3).map((r) => r.reading.sequence),
        ["1", "2", "3"],
      );
      const ack = await command("acknowledge", { sequences: ["1", "2"] });
      assert.equal(ack.status, 200);
      assert.deepEqual(ack.body.result.acknowledged, ["1", "2"]);
      assert.equal(agent.store.get(1n)?.deliveredVia, "controller");
      assert.equal(agent.store.get(3n)?.deliveredMs, null);
    });

    it("shares power when told to, above the threshold, and stops when told to", async () => {
      assert.equal((await command("share_power_on", { batteryThreshold: 0.5 })).status, 200);
      // The policy acts at once on a state change, not at the next data interval.
      while (agent.batteryPolicy?.lastDecision?.reason !== "share") await sleep(20);
      const status = await command("status", {});
      assert.equal(status.body.result.sharingPower, true);
      assert.ok((agent.batteryPolicy.lastDecision.current ?? 0) > 0, "a sharing battery discharges");
      assert.equal((await command("share_power_off", {})).status, 200);
      while (agent.batteryPolicy.lastDecision.reason === "share") await sleep(20);
    });

    it("serves the home battery to the controller over the authenticated networked BAL", async () => {
      const remote = new NetworkedBattery("home", {
        url: agent.batteryServerUrl!,
        keyId: "mgc",
        secret: SECRET,
      });
      const status = await remote.getStatus();
      assert.equal(status.capacity, 100);
      assert.equal(status.voltage, 48);
      // Simulated time runs 600× faster, so the policy has moved charge in or out since the start.
      assert.ok(status.stateOfCharge > 0 && status.stateOfCharge <= 1 && status.stateOfCharge !== 0.9);
      assert.ok(Math.abs(status.current) <= 20);
      const forged = new NetworkedBattery("home", {
        url: agent.batteryServerUrl!,
        keyId: "mgc",
        secret: "x".repeat(40),
      });
      await assert.rejects(forged.getStatus(), /BatteryAuth|authenticat|refused/i);
    });
  },
);
