/**
 * What a network home remembers between runs (state.json) and the lock that keeps two `up`/`down`
 * runs from working on the same home at once.
 */
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import { FABRIC_COMMIT } from "./binaries.js";
import { DEFAULT_PORT_BASE, type FabricConfig } from "./config.js";
import { isAlive } from "./processes.js";
import { layoutOf, type Layout } from "./topology.js";

export interface NetworkState {
  version: 1;
  /** Fabric commit the ledgers were created with. */
  fabricCommit: string;
  /** Fixed at creation: ports are baked into the channel config (orderer endpoint, anchor peers). */
  portBase: number;
  /** Each organisation's chaincode package id (by MSP id), once packaged. */
  packageIds?: Record<string, string>;
  /** True once the chaincode definition is committed on the channel. */
  chaincodeCommitted?: boolean;
}

export async function readState(layout: Layout): Promise<NetworkState | undefined> {
  try {
    return JSON.parse(await readFile(layout.stateFile, "utf8")) as NetworkState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${layout.stateFile}: ${(err as Error).message}`);
  }
}

export async function writeState(layout: Layout, state: NetworkState): Promise<void> {
  await writeFile(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** The state of an existing network home, or a new one (written) for a fresh home. */
export async function openState(cfg: FabricConfig): Promise<NetworkState> {
  const layout = layoutOf(cfg.home);
  const existing = await readState(layout);
  if (existing) {
    if (cfg.portBase !== undefined && cfg.portBase !== existing.portBase) {
      throw new Error(
        `the network in ${cfg.home} was created with port base ${existing.portBase}, not ${cfg.portBase}: ` +
          "ports are part of its channel config; use that base or wipe it with `npm run fabric:down -- --purge`",
      );
    }
    return existing;
  }
  if (
    existsSync(cfg.home) &&
    (await readdir(cfg.home)).some((entry) => entry !== "run" && entry !== "logs")
  ) {
    throw new Error(`${cfg.home} exists but holds no Fabric network (no state.json); refusing to use it`);
  }
  await mkdir(cfg.home, { recursive: true });
  const state: NetworkState = {
    version: 1,
    fabricCommit: FABRIC_COMMIT,
    portBase: cfg.portBase ?? DEFAULT_PORT_BASE,
  };
  await writeState(layout, state);
  return state;
}

/** Runs `work` holding the home's lock; a lock left by a dead process is taken over. */
export async function withLock<T>(layout: Layout, work: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(layout.lockFile), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(layout.lockFile, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const holder = Number(await readFile(layout.lockFile, "utf8").catch(() => ""));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new Error(
          `another fabric command (pid ${holder}) is working on ${layout.home}; wait for it to finish`,
        );
      }
      await rm(layout.lockFile, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    await rm(layout.lockFile, { force: true });
  }
}
