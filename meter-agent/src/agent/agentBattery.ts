import type { SerialPort } from "serialport";
import { z } from "zod";

import type { BatteryState } from "@gridmesh/contracts";

import type { Battery } from "../bal/battery.js";
import { buildTopologyFromFile, readTopologyConfig } from "../bal/buildTopology.js";
import { JbdBatteryDriver } from "../bal/jbdDriver.js";
import { isNetworkBattery } from "../bal/topologyConfig.js";
import type { AgentClock } from "../readings/clock.js";
import { batteryNodes, readBatteryStates } from "../reporting/batterySnapshot.js";
import { JbdBms } from "../serial/jbdBms.js";
import { openSerialPort } from "../serial/openSerialPort.js";
import { AgentConfigError } from "./agentConfig.js";

/** How a "jbd" battery of the topology file is reached. */
const jbdInterface = z.strictObject({
  path: z.string().min(1),
  baudRate: z.number().int().positive().default(9600),
});

export interface AgentBattery {
  battery: Battery;
  /** Every battery of the topology (cells, aggregates, partitions), read for a report. */
  states(): Promise<BatteryState[]>;
  close(): Promise<void>;
}

/**
 * Builds the home's battery from its topology file, read once. Serial ports of JBD batteries are
 * opened first (opening is asynchronous, building a topology is not), then handed to the "jbd"
 * driver factory.
 */
export async function openAgentBattery(
  topologyPath: string,
  name: string,
  clock: AgentClock,
): Promise<AgentBattery> {
  const config = await readTopologyConfig(topologyPath);
  const ports = new Map<string, SerialPort>();
  const bmses: JbdBms[] = [];
  const close = async () => {
    for (const bms of bmses) bms.close();
    for (const port of ports.values()) {
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    }
  };
  try {
    for (const b of config.batteries) {
      if (isNetworkBattery(b) || b.kind !== "jbd") continue;
      const parsed = jbdInterface.safeParse(b.interface);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
        throw new AgentConfigError(`${topologyPath}: battery "${b.name}": interface: ${issues}`);
      }
      ports.set(b.name, await openSerialPort(parsed.data.path, parsed.data.baudRate));
    }
    const topology = buildTopologyFromFile(topologyPath, config, {
      clock: () => clock.now(),
      drivers: {
        jbd: ({ name: batteryName }) => {
          const bms = new JbdBms({ port: ports.get(batteryName)! });
          bmses.push(bms);
          return new JbdBatteryDriver(bms);
        },
      },
    });
    const nodes = batteryNodes(config);
    return { battery: topology.get(name), states: () => readBatteryStates(topology, nodes), close };
  } catch (e) {
    await close();
    throw e;
  }
}
