import { readFile } from "node:fs/promises";

import { TopologyConfigError } from "./errors.js";
import { Topology, type TopologyOptions } from "./topology.js";
import { parseTopologyConfig, type TopologyConfig } from "./topologyConfig.js";

/** Builds every battery in a validated config, each after the batteries it is made from. */
export function buildTopology(config: TopologyConfig, options: TopologyOptions = {}): Topology {
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
      if (b.kind === "simulated") {
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

/** Reads, validates and builds a topology file. */
export async function loadTopology(path: string, options: TopologyOptions = {}): Promise<Topology> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TopologyConfigError([`${path}: ${reason}`], cause);
  }
  try {
    return buildTopology(parseTopologyConfig(raw), options);
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
