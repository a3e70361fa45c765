import { type BatteryKind, type BatteryState, ppmOfFraction } from "@gridmesh/contracts";

import type { Topology } from "../bal/topology.js";
import { isNetworkBattery, type TopologyConfig } from "../bal/topologyConfig.js";

/** Where a battery sits in the home's topology: what the report says besides its values. */
export interface BatteryNode {
  readonly name: string;
  readonly kind: BatteryKind;
  /** A partition's source battery; "" otherwise. */
  readonly source: string;
}

/** Every battery the topology file builds, cells first, then aggregates, then partitions. */
export function batteryNodes(config: TopologyConfig): BatteryNode[] {
  return [
    ...config.batteries.map((b) => ({
      name: b.name,
      kind: isNetworkBattery(b) ? ("network" as const) : ("physical" as const),
      source: "",
    })),
    ...config.aggregators.map((a) => ({ name: a.name, kind: "aggregate" as const, source: "" })),
    ...config.splitters.flatMap((s) =>
      s.partitions.map((p) => ({ name: p.name, kind: "partition" as const, source: s.source })),
    ),
  ];
}

const milli = (v: number) => Math.round(v * 1000);

/**
 * Reads every battery of the topology for a report. A battery that cannot be read (a BMS that does
 * not answer, a network battery's server down) is reported with its error and zero values rather
 * than failing the whole report: the others are still worth knowing.
 */
export async function readBatteryStates(
  topology: Topology,
  nodes: readonly BatteryNode[],
): Promise<BatteryState[]> {
  const ledgers = new Map<string, { charged: number; discharged: number }>();
  for (const source of new Set(nodes.filter((n) => n.kind === "partition").map((n) => n.source))) {
    try {
      for (const p of (await topology.splitterOf(source).accounting()).partitions) ledgers.set(p.name, p);
    } catch {
      // The partitions' own status reads below report the source's failure.
    }
  }
  const states: BatteryState[] = [];
  for (const node of nodes) {
    const blank = {
      ...node,
      error: "",
      capacityMah: 0,
      stateOfChargePpm: 0,
      expectedCapacityMah: 0,
      expectedStateOfChargePpm: 0,
      voltageMv: 0,
      currentMa: 0,
      maxChargeMa: 0,
      maxDischargeMa: 0,
      chargedMah: 0,
      dischargedMah: 0,
    };
    try {
      const s = await topology.get(node.name).getStatus();
      const ledger = ledgers.get(node.name);
      states.push({
        ...blank,
        capacityMah: milli(s.capacity),
        stateOfChargePpm: ppmOfFraction(s.stateOfCharge),
        expectedCapacityMah: milli(s.expected.capacity),
        expectedStateOfChargePpm: ppmOfFraction(s.expected.stateOfCharge),
        voltageMv: milli(s.voltage),
        currentMa: milli(s.current),
        maxChargeMa: milli(s.maxChargeCurrent),
        maxDischargeMa: milli(s.maxDischargeCurrent),
        chargedMah: ledger === undefined ? 0 : milli(ledger.charged),
        dischargedMah: ledger === undefined ? 0 : milli(ledger.discharged),
      });
    } catch (e) {
      states.push({ ...blank, error: (e instanceof Error ? e.message : String(e)).slice(0, 500) });
    }
  }
  return states;
}
