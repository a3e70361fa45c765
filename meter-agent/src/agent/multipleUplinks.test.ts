import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";

import { Wallet } from "ethers";
import { pino } from "pino";

import type { Address } from "@gridmesh/contracts";

import { commandClient } from "../commands/commandTesting.js";
import { createKeystore } from "../signing/keystore.js";
import { ReadingStore } from "../store/readingStore.js";
import { ReadingReceiver } from "../testing/readingReceiver.js";
import { tempDir } from "../testing/tempDir.js";
import { type AgentConfig, parseAgentConfig } from "./agentConfig.js";
import { MeterAgent } from "./meterAgent.js";

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/**
 * The demo's home: readings pushed to the market gateway and pulled by the microgrid controller,
 * from one agent. The gateway's outage (and an agent restart during it) must neither hold back the
 * controller nor cost the gateway a reading.
 */
describe("MeterAgent with a gateway and a controller uplink", { timeout: 90_000 }, () => {
  const controller = Wallet.createRandom();
  const gateway = new ReadingReceiver({ chainId: 31337n, ledger: LEDGER });
  let config: AgentConfig;
  let agent: MeterAgent;
  let meter: Address;
  let cleanup: () => Promise<void>;
  const command = commandClient({ url: () => agent.commandsUrl, controller, meter: () => meter });

  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    process.env.GRIDMESH_UPLINKS_TEST_PASSPHRASE = "uplinks test passphrase";
    meter = (await createKeystore(join(t.dir, "key.json"), "uplinks test passphrase", { scryptN: 1024 }))
      .address as Address;
    await gateway.start();
    const now = Date.now();
    config = parseAgentConfig(
      {
        dataDir: "data",
        key: { keystore: "key.json", passphraseEnv: "GRIDMESH_UPLINKS_TEST_PASSPHRASE" },
        chain: { chainId: 31337, ledger: LEDGER },
        intervalSeconds: 60,
        boundaryToleranceMs: 50_000,
        source: { kind: "simulated", originMs: now, startImportWh: 1000 },
        uplinks: [{ kind: "gateway", url: gateway.url, timeoutMs: 1000 }, { kind: "controller" }],
        forwarding: { minBackoffMs: 50, maxBackoffMs: 200 },
        commands: { port: 0, controllers: [controller.address] },
        // A reading every 100 ms of wall-clock time.
        clock: { originMs: now, speed: 600 },
        log: { level: "silent" },
      },
      t.dir,
    );
  });

  after(async () => {
    await agent?.stop();
    await gateway.cut();
    await cleanup();
  });

  it("keeps serving the controller through the gateway's outage, then gives the gateway everything", async () => {
    await gateway.cut();
    agent = await MeterAgent.start(config, pino({ level: "silent" }));
    assert.deepEqual(agent.store.uplinks, ["controller", "gateway"]);
    await until("five readings are stored", () => agent.store.counts().total >= 5);

    // The controller pulls and acknowledges while the gateway is unreachable.
    const pulled = await command("get_readings_since", { sequence: "0", limit: 1000 });
    const sequences = (pulled.body.result.readings as { reading: { sequence: string } }[]).map(
      (r) => r.reading.sequence,
    );
    assert.ok(sequences.length >= 5);
    const ack = await command("acknowledge", { sequences });
    assert.deepEqual(ack.body.result.acknowledged, sequences);
    const again = await command("acknowledge", { sequences: sequences.slice(0, 1) });
    assert.deepEqual(again.body.result.alreadyDelivered, sequences.slice(0, 1));
    assert.equal(gateway.stored.size, 0);
    const waiting = agent.store.uplinkCounts().gateway!.pending;
    assert.ok(waiting >= sequences.length, `the gateway's readings wait: ${waiting}`);
    assert.ok(agent.forwarders[0]!.stats.failures > 0, "the gateway's forwarder kept trying");

    // A restart in the outage loses nothing.
    await agent.stop();
    agent = await MeterAgent.start(config, pino({ level: "silent" }));
    await until("more readings are stored", () => agent.store.counts().total > sequences.length + 2);
    const status = await command("status", {});
    const uplinks = status.body.result.uplinks as Record<string, { pending: number; delivered: number }>;
    assert.equal(uplinks.controller!.delivered, sequences.length, "the controller's acknowledgements stand");

    await gateway.start();
    await until("the gateway has caught up", () => agent.store.uplinkCounts().gateway!.pending === 0);
    await agent.stop();

    // Each reading the gateway holds it holds once; each one it lacks still waits for it.
    const store = ReadingStore.open(join(config.dataDir, "readings.db"), meter);
    try {
      const all = store.since(0n, 100_000);
      assert.ok(gateway.stored.size >= sequences.length + 2);
      for (const r of all) {
        const got = gateway.stored.get(`${meter.toLowerCase()}:${r.reading.sequence}`);
        const state = r.deliveries.find((d) => d.uplink === "gateway");
        if (got === undefined)
          assert.equal(state?.deliveredMs, null, `reading ${r.reading.sequence} is lost`);
        else assert.deepEqual(got, { reading: r.reading, signature: r.signature });
        if (sequences.includes(r.reading.sequence.toString()))
          assert.deepEqual(
            r.deliveries.map((d) => d.uplink).sort(),
            ["controller", "gateway"],
            `reading ${r.reading.sequence} went both ways`,
          );
      }
      assert.deepEqual(gateway.duplicates, []);
      assert.deepEqual(gateway.rejected, []);
    } finally {
      store.close();
    }
  });
});
