/**
 * `npm run bench:agent`: how many readings the agent signs and makes durable per second, and its
 * resident memory. Each reading goes through the real path: EIP-712 signature with the meter key,
 * then one SQLite transaction committed with synchronous=FULL (an fsync per reading).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

import { Wallet } from "ethers";

import type { Address } from "@gridmesh/contracts";

import { ReadingRecorder } from "../src/readings/readingRecorder.js";
import { ReadingSigner } from "../src/signing/readingSigner.js";
import { ReadingStore } from "../src/store/readingStore.js";

const COUNT = Number(process.env.GRIDMESH_BENCH_READINGS ?? 5000);
const INTERVAL_S = 900;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const dir = await mkdtemp(join(tmpdir(), "gridmesh-bench-agent-"));
try {
  const wallet = Wallet.createRandom();
  const meter = wallet.address as Address;
  const domain = { chainId: 31337n, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };
  const signer = new ReadingSigner(wallet, meter, domain);
  const store = ReadingStore.open(join(dir, "readings.db"), meter);
  const recorder = new ReadingRecorder({ store, signer, intervalSeconds: INTERVAL_S, toleranceMs: 1000 });
  const rssBefore = process.memoryUsage().rss;

  // Signing alone, to tell the two costs apart.
  const probe = {
    meter,
    interval: 1n,
    sequence: 1n,
    importStartWh: 0n,
    importEndWh: 1n,
    exportStartWh: 0n,
    exportEndWh: 0n,
    timestamp: 1n,
  };
  let t = performance.now();
  for (let i = 0; i < 1000; i++) await signer.sign({ ...probe, sequence: BigInt(i + 1) });
  const signPerS = 1000 / ((performance.now() - t) / 1000);

  const first = 2_000_000;
  await recorder.record({ importWh: 0n, exportWh: 0n, atMs: first * INTERVAL_S * 1000 });
  t = performance.now();
  for (let i = 1; i <= COUNT; i++) {
    const out = await recorder.record({
      importWh: BigInt(i * 250),
      exportWh: BigInt(i * 40),
      atMs: (first + i) * INTERVAL_S * 1000,
    });
    if (out.kind !== "recorded") throw new Error(`reading ${i} was not recorded: ${JSON.stringify(out)}`);
  }
  const seconds = (performance.now() - t) / 1000;
  const rssAfter = process.memoryUsage().rss;
  if (store.counts().total !== COUNT) throw new Error("not every reading was stored");
  store.close();

  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`);
  console.log(`signatures only:               ${signPerS.toFixed(0)} readings/s`);
  console.log(
    `signed + durable (fsync each): ${(COUNT / seconds).toFixed(0)} readings/s  (${COUNT} readings in ${seconds.toFixed(2)} s)`,
  );
  console.log(`resident memory:               ${mib(rssBefore)} MiB before, ${mib(rssAfter)} MiB after`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
