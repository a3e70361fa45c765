import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import type { TypedDataDomain, TypedDataField } from "ethers";

import type { MeterReading } from "@gridmesh/contracts";
import { typedDataSigner } from "@gridmesh/contracts/ethers";

/** Who signed a reading: the address, or null when the signature does not decode. */
export interface SignerRecovery {
  recover(reading: MeterReading, signature: string): Promise<string | null>;
  close(): Promise<void>;
}

/** Recovery on the calling thread: for tests, tools, and machines with one core. */
export function inlineSignerRecovery(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
): SignerRecovery {
  return {
    recover(reading, signature) {
      return Promise.resolve(typedDataSigner(domain, types, { ...reading }, signature) ?? null);
    },
    close: () => Promise.resolve(),
  };
}

interface PooledWorker {
  worker: Worker;
  /** Requests sent and not yet answered. */
  busy: number;
}

/**
 * Signature recovery on worker threads (by default one fewer than the cores, at least one): half of
 * a reading's intake time is ethers' pure-JavaScript secp256k1, which otherwise blocks the thread
 * that talks to the database. Requests are spread round-robin; a worker holds the process open only
 * while it owes answers.
 */
export function workerSignerRecovery(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  workers = Math.max(1, availableParallelism() - 1),
): SignerRecovery {
  const pending = new Map<
    number,
    { resolve: (signer: string | null) => void; reject: (e: Error) => void; worker: PooledWorker }
  >();
  let nextId = 0;
  const pool: PooledWorker[] = Array.from({ length: workers }, () => {
    const pooled: PooledWorker = {
      worker: new Worker(new URL("./recoverWorker.mjs", import.meta.url), {
        workerData: { domain, types },
        // The worker is plain JavaScript: no loader (tsx, Hardhat's) needs to follow it.
        execArgv: [],
      }),
      busy: 0,
    };
    const { worker } = pooled;
    worker.on("message", ({ id, signer }: { id: number; signer: string | null }) => {
      pending.get(id)?.resolve(signer);
      settle(id);
    });
    worker.on("error", (error) => {
      // A crashed worker must not strand its callers, nor turn good readings into refused ones: they
      // fail (the endpoint answers 500) and the sender offers them again.
      for (const [id, entry] of pending) {
        entry.reject(new Error(`signature recovery failed: ${error.message}`));
        settle(id);
      }
    });
    // Idle workers never keep the process alive; busy ones do, until their answers are in.
    worker.unref();
    return pooled;
  });
  function settle(id: number) {
    const entry = pending.get(id);
    if (entry === undefined) return;
    pending.delete(id);
    if (--entry.worker.busy === 0) entry.worker.worker.unref();
  }
  return {
    recover(reading, signature) {
      const id = nextId++;
      const pooled = pool[id % pool.length]!;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: pooled });
        if (pooled.busy++ === 0) pooled.worker.ref();
        pooled.worker.postMessage({ id, value: reading, signature });
      });
    },
    async close() {
      await Promise.all(pool.map((p) => p.worker.terminate()));
    },
  };
}
