import { writeFile } from "node:fs/promises";
import path from "node:path";

import type { HomeDeviceLines, HomeDevicesSpec } from "./homeDevicesSpec.js";
import { BATTERY_CELLS, BATTERY_NOMINAL_V, TOWN_UTC_OFFSET_HOURS, type HomeSpec } from "./homeSpecs.js";
import { jsonLine, ManagedProcess } from "./managedProcess.js";
import type { SimulatedClock } from "./simulatedClock.js";

const MAIN = path.join(import.meta.dirname, "homeDevicesMain.ts");

export interface StartHomeDevicesParameters {
  homes: readonly HomeSpec[];
  clock: SimulatedClock;
  dir: string;
  logsDir: string;
}

/**
 * Starts the process simulating every home's meter and battery on pseudo-terminals; it is ready
 * with each home's serial lines.
 */
export async function startHomeDevices(
  p: StartHomeDevicesParameters,
): Promise<ManagedProcess<HomeDeviceLines[]>> {
  const spec: HomeDevicesSpec = {
    clock: p.clock.config,
    utcOffsetHours: TOWN_UTC_OFFSET_HOURS,
    // A battery step every five simulated seconds at most, and at least four times a second.
    tickMs: Math.max(50, Math.min(250, Math.round(5_000 / p.clock.speed))),
    homes: p.homes.map((h) => ({
      name: h.name,
      seed: h.index,
      solarPeakW: h.solarPeakW,
      baseLoadW: h.baseLoadW,
      morningPeakW: h.morningPeakW,
      eveningPeakW: h.eveningPeakW,
      startImportWh: h.startImportWh,
      startExportWh: h.startExportWh,
      ...(h.battery !== undefined && {
        battery: {
          capacityAh: h.battery.capacityAh,
          stateOfCharge: h.battery.stateOfCharge,
          cells: BATTERY_CELLS,
          nominalV: BATTERY_NOMINAL_V,
          maxChargeA: h.battery.maxChargeA,
          maxDischargeA: h.battery.maxDischargeA,
          inverterW: h.battery.inverterW,
        },
      }),
    })),
  };
  const specFile = path.join(p.dir, "home-devices.json");
  await writeFile(specFile, `${JSON.stringify(spec, null, 2)}\n`);
  return new ManagedProcess<HomeDeviceLines[]>({
    name: "home devices",
    args: ["--disable-warning=ExperimentalWarning", "--import", "tsx", MAIN, specFile],
    logFile: path.join(p.logsDir, "home-devices.log"),
    stdinPipe: true,
    ready: (line) => {
      const json = jsonLine(line);
      return json?.msg === "home devices ready" ? (json.homes as HomeDeviceLines[]) : undefined;
    },
  });
}
