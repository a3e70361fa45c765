import { readFile } from "node:fs/promises";
import { dirname } from "node:path";

import { TopologyConfigError } from "./errors.js";
import { NetworkedBattery } from "./network/networkedBattery.js";
import { readSecret } from "./network/readSecret.js";
import { Topology, type TopologyOptions } from "./topology.js";
import {
  isNetworkBattery,
  parseTopologyConfig,
  type NetworkBatteryConfig,
  type TopologyConfig,
} from "./topologyConfig.js";

export interface BuildTopologyOptions extends TopologyOptions {
  /** Where network batteries' `secretEnv` variables are looked up; `process.env` by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where relative `secretFile` paths start; the topology file's folder for `loadTopology`. */
  readonly baseDir?: string;
}

/** Builds every battery in a validated config, each after the batteries it is made from. */
export function buildTopology(config: TopologyConfig, options: BuildTopologyOptions = {}): Topology {
  const topology = new Topology(options);
  const problems: string[] = [];
  const attempt = (make: () => void) => {
    try {
      make();
    } catch (error) {
      if (!(error instanceof TopologyConfigError)) throw error;
      problems.push(...error.problems);
    }
  };
  for (const b of config.batteries) {
    attempt(() => {
      if (isNetworkBattery(b)) {
        topology.add(networkedBattery(b, options));
      } else if (b.kind === "simulated") {
        topology.makeBattery(b.name, "simulated", {
          capacity: b.capacity!,
          stateOfCharge: b.stateOfCharge!,
          voltage: b.voltage!,
          maxChargeCurrent: b.maxChargeCurrent,
          maxDischargeCurrent: b.maxDischargeCurrent,
        });
      } else {
        topology.makeBattery(b.name, b.kind, {
          interface: b.interface,
          maxChargeCurrent: b.maxChargeCurrent,
          maxDischargeCurrent: b.maxDischargeCurrent,
        });
      }
    });
  }
  // parseTopologyConfig has ruled out unknown names and cycles, so each pass builds at least one.
  let aggregators = [...config.aggregators];
  let splitters = [...config.splitters];
  while (aggregators.length + splitters.length > 0) {
    const before = aggregators.length + splitters.length;
    aggregators = aggregators.filter((a) => {
      if (!a.members.every((m) => topology.has(m))) return true;
      attempt(() => topology.makeAggregator(a.name, a.members, a.reporting));
      return false;
    });
    splitters = splitters.filter((s) => {
      if (!topology.has(s.source)) return true;
      attempt(() => topology.makeSplitter(s.partitions, s.source, s.policy));
      return false;
    });
    if (aggregators.length + splitters.length === before) {
      const stuck = [
        ...aggregators.map((a) => `aggregator "${a.name}"`),
        ...splitters.map((s) => `splitter of "${s.source}"`),
      ];
      problems.push(...stuck.map((node) => `${node}: depends on a battery that could not be built`));
      break;
    }
  }
  if (problems.length > 0) throw new TopologyConfigError(problems);
  return topology;
}

/**
 * A network entry's battery. Its requests are timestamped by the wall clock, not by
 * `options.clock`: the server compares them with its own wall clock.
 */
function networkedBattery(b: NetworkBatteryConfig, options: BuildTopologyOptions): NetworkedBattery {
  try {
    const secret = readSecret(b, options.env ?? process.env, options.baseDir);
    return new NetworkedBattery(b.name, {
      url: b.url,
      keyId: b.keyId,
      secret,
      ...(b.remoteName !== undefined && { remoteName: b.remoteName }),
      ...(b.timeout !== undefined && { timeout: b.timeout }),
    });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    // The battery's name is in NetworkedBattery's own messages already.
    const problem = reason.startsWith(`battery "${b.name}"`) ? reason : `battery "${b.name}": ${reason}`;
    throw new TopologyConfigError([problem], cause);
  }
}

/** Reads and validates a topology file; problems are prefixed with the file's path. */
export async function readTopologyConfig(path: string): Promise<TopologyConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TopologyConfigError([`${path}: ${reason}`], cause);
  }
  return inFile(path, () => parseTopologyConfig(raw));
}

/** Builds a topology read from `path`: relative secret files start at its folder. */
export function buildTopologyFromFile(
  path: string,
  config: TopologyConfig,
  options: BuildTopologyOptions = {},
): Topology {
  return inFile(path, () => buildTopology(config, { baseDir: dirname(path), ...options }));
}

/** Reads, validates and builds a topology file. */
export async function loadTopology(path: string, options: BuildTopologyOptions = {}): Promise<Topology> {
  return buildTopologyFromFile(path, await readTopologyConfig(path), options);
}

function inFile<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof TopologyConfigError) {
      throw new TopologyConfigError(
        error.problems.map((p) => `${path}: ${p}`),
        error,
      );
    }
    throw error;
  }
}
