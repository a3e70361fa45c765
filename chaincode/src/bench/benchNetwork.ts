import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { DEFAULT_PORT_BASE, PORT_SPAN, resolveConfig } from "../../../scripts/fabric/config.js";
import { fabricDown, fabricStatus, fabricUp } from "../../../scripts/fabric/network.js";
import { freePortBase } from "../../../scripts/fabric/ports.js";

export interface BenchNetwork {
  profilePath: string;
  description: string;
  /** Takes down a network the benchmark started; leaves alone one it found running. */
  release(): Promise<void>;
}

/**
 * The Fabric network to measure: the one running in the configured home (GRIDMESH_FABRIC_HOME, default
 * `<repo>/.fabric`) if every process of it runs, else a new one in a temporary home on the first free
 * block of ports from the configured base, purged by `release()`.
 */
export async function benchNetwork(log: (line: string) => void): Promise<BenchNetwork> {
  const cfg = resolveConfig({ log });
  const processes = await fabricStatus({ home: cfg.home });
  if (processes.length > 0 && processes.every((p) => p.pid !== undefined)) {
    return {
      profilePath: path.join(cfg.home, "network.json"),
      description: `the running network in ${cfg.home}`,
      release: () => Promise.resolve(),
    };
  }
  const home = await mkdtemp(path.join(tmpdir(), "gridmesh-fabric-bench-"));
  const portBase = await freePortBase(cfg.portBase ?? DEFAULT_PORT_BASE);
  const options = { home, portBase, log };
  try {
    await fabricUp(options);
  } catch (error) {
    await fabricDown({ ...options, purge: true }).catch(() => undefined);
    throw error;
  }
  return {
    profilePath: path.join(home, "network.json"),
    description: `a new network in ${home} (ports ${portBase}–${portBase + PORT_SPAN - 1}), taken down afterwards`,
    release: () => fabricDown({ ...options, purge: true }),
  };
}
