/**
 * Signed readings verified and stored per second by the gateway's intake (`npm run bench:gateway`),
 * on embedded PGlite (in a data directory) and on a PostgreSQL server started for the run.
 *
 * Readings are signed beforehand (the meters' work, not the gateway's). Each is then checked as the
 * endpoint checks it — EIP-712 signature recovery, its stored neighbours, conflicts — and inserted
 * in its own transaction. Meter activity is answered from memory: in production it comes from the
 * indexed registry, not a chain call per reading.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

import { Wallet } from "ethers";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  type Address,
  type Hex,
  type MeterReading,
  type SignedReading,
} from "@gridmesh/contracts";

import { createLogger } from "../src/common/logger.js";
import { ReadingIntake } from "../src/relay/readingIntake.js";
import { inlineSignerRecovery, workerSignerRecovery } from "../src/relay/signerRecovery.js";
import { createDatabase, migrate, type Database, type DatabaseTarget } from "../src/store/index.js";
import { startPostgresServer } from "../src/store/testing/postgresServer.js";

const METERS = 20;
const PER_METER = Number(process.env.GRIDMESH_BENCH_READINGS_PER_METER ?? 100);
const ledger = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const domain = deliveryLedgerDomain(31337n, ledger);
const types = mutableTypes(meterReadingTypes);
const logger = createLogger({ level: "silent" });

async function signedReadings(): Promise<SignedReading[]> {
  const out: SignedReading[] = [];
  for (let m = 0; m < METERS; m++) {
    const wallet = Wallet.createRandom();
    for (let s = 1n; s <= BigInt(PER_METER); s++) {
      const reading: MeterReading = {
        meter: wallet.address as Address,
        interval: 2_000_000n + s,
        sequence: s,
        importStartWh: 100n * s,
        importEndWh: 100n * s + 100n,
        exportStartWh: 7n * s,
        exportEndWh: 7n * s + 7n,
        timestamp: (2_000_001n + s) * 60n,
      };
      out.push({ reading, signature: (await wallet.signTypedData(domain, types, reading)) as Hex });
    }
  }
  return out;
}

async function measure(target: DatabaseTarget, readings: SignedReading[], workers: boolean): Promise<number> {
  const db: Database = await createDatabase({ database: target, logger });
  const recovery = workers ? workerSignerRecovery(domain, types) : inlineSignerRecovery(domain, types);
  try {
    await migrate(db, { logger });
    const intake = new ReadingIntake({
      db,
      chainId: 31337n,
      ledger,
      intervalSeconds: 60,
      activity: { activeThroughout: () => Promise.resolve(true) },
      recovery,
    });
    const started = performance.now();
    for (let i = 0; i < readings.length; i += 100) {
      const receipts = await intake.submit(readings.slice(i, i + 100));
      if (receipts.some((r) => r.status !== "stored"))
        throw new Error(`not stored: ${JSON.stringify(receipts.find((r) => r.status !== "stored"))}`);
    }
    return readings.length / ((performance.now() - started) / 1000);
  } finally {
    await recovery.close();
    await db.close();
  }
}

const readings = await signedReadings();
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`);
console.log(
  `${readings.length} readings (${METERS} meters × ${PER_METER}), batches of 100, one transaction per reading`,
);

const modes = [
  [false, "signatures on the main thread"],
  [true, "signatures on worker threads (as the gateway runs)"],
] as const;
const dir = await mkdtemp(join(tmpdir(), "gridmesh-bench-gateway-"));
try {
  for (const [workers, label] of modes) {
    const rate = await measure(
      { kind: "embedded", dataDir: join(dir, `pglite-${workers}`) },
      readings,
      workers,
    );
    console.log(`PGlite (embedded, data directory), ${label}: ${rate.toFixed(0)} readings/s`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const server = await startPostgresServer();
try {
  for (const [workers, label] of modes) {
    const url = await server.createDatabase(`bench_${workers}`);
    const rate = await measure({ kind: "postgres", url }, readings, workers);
    console.log(`PostgreSQL server (loopback, fsync off), ${label}: ${rate.toFixed(0)} readings/s`);
  }
} finally {
  await server.stop();
}
