/**
 * The simulated homes' devices, one process for the whole town: for every home an Eastron SDM meter
 * on a socat pseudo-terminal, and for homes with a battery a JBD BMS on another, both driven by the
 * home's solar and load profile on the shared simulated clock. Meter agents open the other end of
 * each line with the real serial driver, as they would /dev/ttyUSB0 on a Pi.
 *
 *   node --import tsx scripts/local/homeDevicesMain.ts <devices.json>
 *
 * Prints one JSON line `{"msg": "home devices ready", "homes": [{name, meter, bms}]}` with the
 * agents' ends, then runs until SIGINT, SIGTERM or the end of its standard input (its parent gone).
 */
import { readFile } from "node:fs/promises";

import type { SerialPort } from "serialport";

import { scaledClock } from "@gridmesh/contracts";

import { homeProfile } from "../../meter-agent/src/serial/homeProfile.js";
import { JbdSimulator } from "../../meter-agent/src/serial/jbdSimulator.js";
import { openSerialPort } from "../../meter-agent/src/serial/openSerialPort.js";
import { openPtyPair, type PtyPair } from "../../meter-agent/src/serial/ptyPair.js";
import { SdmSimulator } from "../../meter-agent/src/serial/sdmSimulator.js";
import {
  homeDevicesSpecSchema,
  type HomeDeviceLines,
  type HomeDevicesSpecParsed,
} from "./homeDevicesSpec.js";
import { inverterCurrent } from "./homeInverter.js";

interface RunningHome {
  lines: HomeDeviceLines;
  /** Moves the battery one inverter step (homes with a battery). */
  step?: () => void;
}

async function startHome(
  home: HomeDevicesSpecParsed["homes"][number],
  spec: HomeDevicesSpecParsed,
  closers: (() => Promise<void>)[],
): Promise<RunningHome> {
  const clock = scaledClock(spec.clock.originMs, spec.clock.speed);
  const pairs: PtyPair[] = [];
  const ports: SerialPort[] = [];
  const close = async () => {
    for (const port of ports) await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
    await Promise.all(pairs.map((p) => p.close()));
  };
  closers.push(close);
  const open = async () => {
    const pair = await openPtyPair();
    pairs.push(pair);
    const port = await openSerialPort(pair.paths[0]);
    // socat goes first on Ctrl-C (it shares the terminal's process group); a closing line is no crash.
    port.on("error", (error) => process.stderr.write(`${home.name} ${pair.paths[0]}: ${error.message}\n`));
    ports.push(port);
    return { port, agentEnd: pair.paths[1] };
  };

  const profile = homeProfile({
    solarPeakW: home.solarPeakW,
    baseLoadW: home.baseLoadW,
    morningPeakW: home.morningPeakW,
    eveningPeakW: home.eveningPeakW,
    utcOffsetHours: spec.utcOffsetHours,
  });
  // The battery sits behind the meter: its discharge offsets the load, its charge adds to it.
  let batteryW = 0;
  const meterLine = await open();
  const meter = new SdmSimulator({
    port: meterLine.port,
    profile: (atMs) => {
      const { solarW, loadW } = profile(atMs);
      return { solarW: solarW + Math.max(0, batteryW), loadW: loadW + Math.max(0, -batteryW) };
    },
    startAt: clock.now(),
    speed: spec.clock.speed,
    importWh: home.startImportWh,
    exportWh: home.startExportWh,
    seed: home.seed,
  });
  closers.push(() => Promise.resolve(meter.close()));
  const battery = home.battery;
  if (battery === undefined) return { lines: { name: home.name, meter: meterLine.agentEnd, bms: undefined } };

  const bmsLine = await open();
  const bms = new JbdSimulator({
    port: bmsLine.port,
    clock: () => clock.now(),
    capacityAh: battery.capacityAh,
    stateOfCharge: battery.stateOfCharge,
    cells: battery.cells,
  });
  closers.push(() => Promise.resolve(bms.close()));
  const step = () => {
    // The meter integrates up to now with the battery power of the step that ends here.
    meter.state();
    const { solarW, loadW } = profile(clock.now());
    bms.applyCurrent(
      inverterCurrent({
        mosfets: bms.state().mosfets,
        solarW,
        loadW,
        voltageV: battery.nominalV,
        maxChargeA: battery.maxChargeA,
        maxDischargeA: battery.maxDischargeA,
        inverterW: battery.inverterW,
      }),
    );
    batteryW = bms.state().currentA * battery.nominalV;
  };
  step();
  return { lines: { name: home.name, meter: meterLine.agentEnd, bms: bmsLine.agentEnd }, step };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: homeDevicesMain.ts <devices.json>");
  const spec = homeDevicesSpecSchema.parse(JSON.parse(await readFile(file, "utf8")));
  const closers: (() => Promise<void>)[] = [];
  const ticker: { timer?: NodeJS.Timeout } = {};
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(ticker.timer);
      for (const close of closers.reverse()) await close().catch(() => undefined);
      process.exit(0);
    })();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();

  const homes = await Promise.all(spec.homes.map((home) => startHome(home, spec, closers)));
  ticker.timer = setInterval(() => {
    for (const home of homes) home.step?.();
  }, spec.tickMs);
  process.stdout.write(
    `${JSON.stringify({ msg: "home devices ready", homes: homes.map((h) => h.lines) })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`home devices failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
