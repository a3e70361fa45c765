import type { HomeProfile } from "../serial/homeProfile.js";
import type { SdmMeter } from "../serial/sdmMeter.js";
import type { AgentClock } from "./clock.js";

/** The meter's cumulative energy registers at one moment, in integer watt-hours. */
export interface RegisterSample {
  importWh: bigint;
  exportWh: bigint;
  atMs: number;
}

/** Where readings come from: a real meter, or a simulated home. */
export interface RegisterSource {
  read(): Promise<RegisterSample>;
  /** Net active power now, in watts: positive importing from the grid, negative exporting. */
  netPowerW(): Promise<number>;
}

/** An Eastron SDM meter on a serial line. */
export function sdmRegisterSource(meter: SdmMeter): RegisterSource {
  return {
    async read() {
      const r = await meter.read();
      return {
        importWh: BigInt(Math.floor(r.importWh)),
        exportWh: BigInt(Math.floor(r.exportWh)),
        atMs: r.at.getTime(),
      };
    },
    netPowerW: () => meter.readActivePowerW(),
  };
}

export interface ProfileRegisterOptions {
  profile: HomeProfile;
  clock: AgentClock;
  /** Simulated time at which the registers stood at `startImportWh` / `startExportWh`. */
  originMs: number;
  startImportWh?: number;
  startExportWh?: number;
  /** Integration step in simulated milliseconds. Default 10 s. */
  stepMs?: number;
}

/**
 * A simulated home without a serial line: the registers are the integral of the home's net power
 * from `originMs`, a pure function of time, so a restarted agent reads the same registers it would
 * have read had it kept running. The demo's homes use the serial simulator instead; this is for
 * tests and benchmarks that need many intervals fast.
 */
export function profileRegisterSource(options: ProfileRegisterOptions): RegisterSource {
  const { profile, clock, originMs, stepMs = 10_000 } = options;
  // Whole steps from the origin are accumulated once; the step under way is interpolated.
  // Summing in the same order every time makes the value a pure function of time, so registers
  // never run backwards across a restart by a rounding error.
  let at = originMs;
  let importWh = options.startImportWh ?? 0;
  let exportWh = options.startExportWh ?? 0;
  const step = (from: number, dt: number): number => {
    const { solarW, loadW } = profile(from + dt / 2);
    return ((loadW - solarW) * dt) / 3_600_000;
  };
  const registersAt = (to: number) => {
    while (at + stepMs <= to) {
      const wh = step(at, stepMs);
      if (wh > 0) importWh += wh;
      else exportWh -= wh;
      at += stepMs;
    }
    // Linear within the step under way: exactly monotonic, and equal to the next whole step at its end.
    const rest = to > at ? (step(at, stepMs) * (to - at)) / stepMs : 0;
    return { importWh: importWh + Math.max(rest, 0), exportWh: exportWh + Math.max(-rest, 0) };
  };
  return {
    read() {
      const now = clock.now();
      const r = registersAt(now);
      return Promise.resolve({
        importWh: BigInt(Math.floor(r.importWh)),
        exportWh: BigInt(Math.floor(r.exportWh)),
        atMs: now,
      });
    },
    netPowerW() {
      const { solarW, loadW } = profile(clock.now());
      return Promise.resolve(loadW - solarW);
    },
  };
}
