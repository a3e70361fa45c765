import { readFile } from "node:fs/promises";

import type { SerialPort } from "serialport";
import { z } from "zod";

import type { Battery } from "../bal/battery.js";
import { loadTopology } from "../bal/buildTopology.js";
import { JbdBatteryDriver } from "../bal/jbdDriver.js";
import type { AgentClock } from "../readings/clock.js";
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
  close(): Promise<void>;
}

/**
 * Builds the home's battery from its topology file. Serial ports of JBD batteries are opened first
 * (opening is asynchronous, building a topology is not), then handed to the "jbd" driver factory.
 */
export async function openAgentBattery(
  topologyPath: string,
  name: string,
  clock: AgentClock,
): Promise<AgentBattery> {
  let raw: { batteries?: { name?: unknown; kind?: unknown; interface?: unknown }[] };
  try {
    raw = JSON.parse(await readFile(topologyPath, "utf8")) as typeof raw;
  } catch (cause) {
    throw new AgentConfigError(
      `cannot read the battery topology ${topologyPath}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const ports = new Map<string, SerialPort>();
  const bmses: JbdBms[] = [];
  const close = async () => {
    for (const bms of bmses) bms.close();
    for (const port of ports.values()) {
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    }
  };
  try {
    for (const b of raw.batteries ?? []) {
      if (b.kind !== "jbd") continue;
      const parsed = jbdInterface.safeParse(b.interface);
      if (!parsed.success) {
        throw new AgentConfigError(
          `${topologyPath}: battery "${String(b.name)}": interface: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
        );
      }
      ports.set(String(b.name), await openSerialPort(parsed.data.path, parsed.data.baudRate));
    }
    const topology = await loadTopology(topologyPath, {
      clock: () => clock.now(),
      drivers: {
        jbd: ({ name: batteryName }) => {
          const bms = new JbdBms({ port: ports.get(batteryName)! });
          bmses.push(bms);
          return new JbdBatteryDriver(bms);
        },
      },
    });
    return { battery: topology.get(name), close };
  } catch (e) {
    await close();
    throw e;
  }
}
