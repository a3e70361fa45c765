import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { pino } from "pino";

import type { Address } from "@gridmesh/contracts";

import { seededRandom } from "../common/seededRandom.js";
import { Forwarder } from "../forward/forwarder.js";
import { HttpUplink } from "../forward/httpUplink.js";
import { createKeystore } from "../signing/keystore.js";
import { ReadingStore } from "../store/readingStore.js";
import { ReadingReceiver } from "../testing/readingReceiver.js";
import { tempDir } from "../testing/tempDir.js";

const AGENT = fileURLToPath(new URL("../../bin/gridmesh-agent.mjs", import.meta.url));
const INTERVAL_S = 10;
/** Simulated time runs this much faster: one 10 s interval every 10 ms, a reading each. */
const SPEED = 1000;
const CHAOS_MS = Number(process.env.GRIDMESH_CHAOS_MS ?? 30_000);

/**
 * Two uplinks, each cut at random on its own while the agent is killed at random: each must end up
 * with every reading exactly once.
 */
describe("store-and-forward through crashes and outages", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let configPath: string;
  let meter: Address;
  const ledger = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
  const receiver = new ReadingReceiver({ chainId: 31337n, ledger });
  const mirror = new ReadingReceiver({ chainId: 31337n, ledger });
  const receivers = [
    { name: "gateway", receiver },
    { name: "mirror", receiver: mirror },
  ];
  const children = new Set<ChildProcess>();

  const startAgent = () => {
    const child = spawn(process.execPath, [AGENT, "run", "--config", configPath], {
      env: { ...process.env, GRIDMESH_TEST_PASSPHRASE: "crash test passphrase" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    children.add(child);
    const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
      child.once("exit", (code, signal) => {
        children.delete(child);
        resolve({ code, signal, stderr });
      }),
    );
    return { child, exited };
  };

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await receiver.start();
    await mirror.start();
    const wallet = await createKeystore(join(dir, "key.json"), "crash test passphrase", { scryptN: 1024 });
    meter = wallet.address as Address;
    const now = Date.now();
    configPath = join(dir, "agent.json");
    await writeFile(
      configPath,
      JSON.stringify({
        dataDir: "data",
        key: { keystore: "key.json", passphraseEnv: "GRIDMESH_TEST_PASSPHRASE" },
        chain: { chainId: 31337, ledger },
        intervalSeconds: INTERVAL_S,
        // Nearly a whole interval: timer jitter must not cost readings in a test 1000× sped up.
        boundaryToleranceMs: 9_000,
        source: { kind: "simulated", originMs: now, startImportWh: 10_000 },
        uplinks: [
          { kind: "gateway", url: receiver.url, batchSize: 200, timeoutMs: 2000 },
          { kind: "gateway", name: "mirror", url: mirror.url, batchSize: 200, timeoutMs: 2000 },
        ],
        forwarding: { minBackoffMs: 50, maxBackoffMs: 500 },
        clock: { originMs: now, speed: SPEED },
        log: { level: "error" },
      }),
    );
  });

  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    await receiver.cut();
    await mirror.cut();
    await cleanup();
  });

  it("delivers every reading exactly once", { timeout: CHAOS_MS + 120_000 }, async () => {
    const seed = Number(process.env.GRIDMESH_CHAOS_SEED ?? Date.now() % 2 ** 31);
    const random = seededRandom(seed); // replay a failing run with GRIDMESH_CHAOS_SEED
    const between = (lo: number, hi: number) => lo + random() * (hi - lo);
    const deadline = Date.now() + CHAOS_MS;
    let kills = 0;
    let cuts = 0;

    // Each uplink goes down and comes back at random, independently of the other and of the crashes.
    const chaos = receivers.map(async ({ receiver: r }) => {
      while (Date.now() < deadline) {
        await sleep(between(500, 3000));
        await r.cut();
        cuts++;
        await sleep(between(200, 2500));
        await r.start();
      }
    });
    while (Date.now() < deadline) {
      const { child, exited } = startAgent();
      await sleep(between(300, 3500));
      child.kill("SIGKILL");
      const { signal, stderr } = await exited;
      assert.equal(signal, "SIGKILL", `the agent died on its own: ${stderr}`);
      kills++;
    }
    await Promise.all(chaos);

    // Uplinks back for good: a last, graceful run drains what is pending.
    const { child, exited } = startAgent();
    const store = ReadingStore.open(join(dir, "data", "readings.db"), meter);
    try {
      // Started (it stores new readings), then caught up: only then ask it to stop.
      const before = store.counts().total;
      while (store.counts().total === before) await sleep(50);
      while (store.counts().pending > 0) await sleep(100);
      child.kill("SIGTERM");
      const { code, stderr } = await exited;
      assert.equal(code, 0, stderr);
      // The agent kept reading until it stopped; what it stored after the check above is sent by
      // the same forwarder code, in this process.
      for (const { name, receiver: r } of receivers) {
        const drain = new Forwarder({
          store,
          uplink: new HttpUplink({ name, url: r.url }),
          log: pino({ level: "silent" }),
        });
        while ((await drain.sendOnce()) > 0);
      }
      const counts = store.counts();
      const readings = store.since(0n, 1_000_000);
      const n = readings.length;
      console.log(
        `seed ${seed}: ${n} readings, ${kills} SIGKILLs, ${cuts} uplink cuts, ` +
          `${receiver.duplicates.length} + ${mirror.duplicates.length} duplicate deliveries`,
      );
      assert.ok(n >= 1000, `expected thousands of readings, got ${n}`);
      assert.ok(kills >= 5 && cuts >= 6, `chaos too mild: ${kills} kills, ${cuts} cuts`);
      assert.deepEqual(counts, { total: n, pending: 0, delivered: n, expired: 0 });

      // No lost reading: sequences 1..n, every one stored by each receiver, with the agent's signature.
      readings.forEach((r, i) => assert.equal(r.reading.sequence, BigInt(i + 1)));
      for (const { name, receiver: r } of receivers) {
        assert.equal(r.stored.size, n, `${name} holds each reading once`);
        for (const s of readings) {
          const got = r.stored.get(`${meter.toLowerCase()}:${s.reading.sequence}`);
          assert.ok(got, `reading ${s.reading.sequence} never arrived at ${name}`);
          assert.deepEqual(got, { reading: s.reading, signature: s.signature });
        }
        // No conflicting duplicate: a reading sent twice is byte-identical, so receivers may drop it.
        assert.ok(r.duplicates.every((d) => d.identical));
        assert.deepEqual(r.rejected, []);
      }
      // Readings of consecutive intervals are continuous; every interval's registers only grow.
      for (let i = 1; i < n; i++) {
        const [a, b] = [readings[i - 1]!.reading, readings[i]!.reading];
        assert.ok(b.interval > a.interval);
        if (b.interval === a.interval + 1n) {
          assert.equal(b.importStartWh, a.importEndWh);
          assert.equal(b.exportStartWh, a.exportEndWh);
        } else {
          assert.ok(b.importStartWh >= a.importEndWh && b.exportStartWh >= a.exportEndWh);
        }
      }
    } finally {
      store.close();
    }
  });
});
