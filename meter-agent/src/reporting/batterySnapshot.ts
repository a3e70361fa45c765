import { type BatteryKind, type BatteryState, ppmOfFraction } from "@gridmesh/contracts";

import type { BatteryStatus } from "../bal/battery.js";
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

type Reading = { status: BatteryStatus; charged: number; discharged: number } | { error: unknown };

/**
 * Reads every battery of the topology for a report. A battery that cannot be read (a BMS that does
 * not answer, a network battery's server down) is reported with its error and zero values rather
 * than failing the whole report: the others are still worth knowing. Each split battery's
 * partitions come from one snapshot of its splitter: one read of the source for all of them.
 */
export async function readBatteryStates(
  topology: Topology,
  nodes: readonly BatteryNode[],
): Promise<BatteryState[]> {
  const partitions = new Map<string, Reading>();
  for (const source of new Set(nodes.filter((n) => n.kind === "partition").map((n) => n.source))) {
    const names = nodes.filter((n) => n.source === source).map((n) => n.name);
    try {
      const { statuses, accounting } = await topology.splitterOf(source).snapshot();
      for (const [i, ledger] of accounting.partitions.entries()) {
        partitions.set(ledger.name, {
          status: statuses[i]!,
          charged: ledger.charged,
          discharged: ledger.discharged,
        });
      }
    } catch (error) {
      for (const name of names) partitions.set(name, { error });
    }
  }
  const read = async (node: BatteryNode): Promise<Reading> => {
    const known = partitions.get(node.name);
    if (known !== undefined) return known;
    try {
      return { status: await topology.get(node.name).getStatus(), charged: 0, discharged: 0 };
    } catch (error) {
      return { error };
    }
  };
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
    const r = await read(node);
    if ("error" in r) {
      const e = r.error;
      states.push({ ...blank, error: (e instanceof Error ? e.message : String(e)).slice(0, 500) });
      continue;
    }
    const s = r.status;
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
      chargedMah: milli(r.charged),
      dischargedMah: milli(r.discharged),
    });
  }
  return states;
}
