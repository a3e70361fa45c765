import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  buildMeterCommand,
  meterCommandDomain,
  meterCommandToJson,
  meterCommandTypes,
  mutableTypes,
  type Address,
} from "@gridmesh/contracts";
import type { HDNodeWallet } from "ethers";

import type { MeterStatus } from "../../../meter-agent/src/commands/commandExecutor.js";
import { createKeystore } from "../../../meter-agent/src/signing/keystore.js";
import { ReadingStore, type StoredReading } from "../../../meter-agent/src/store/readingStore.js";
import { startService, type ServiceProcess } from "../../helpers/serviceProcess.js";
import { waitForLog } from "./processLog.js";
import type { SimClock } from "./simClock.js";

const AGENT_BIN = fileURLToPath(new URL("../../../meter-agent/bin/gridmesh-agent.mjs", import.meta.url));
export const CHAIN_ID = 31337;
export const DELIVERY_LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
export const INTERVAL_SECONDS = 300;
const PASSPHRASE = "use-case meter passphrase";
const BATTERY_VOLTAGE = 51.2;

/** One simulated home: its load and solar profile, and optionally a home battery. */
export interface MeterAgentSpec {
  name: string;
  solarPeakW: number;
  baseLoadW: number;
  battery?: { capacityAh: number; stateOfCharge: number; maxChargeA: number; maxDischargeA: number };
}

export interface StartMeterAgentParameters {
  dir: string;
  spec: MeterAgentSpec;
  clock: SimClock;
  /** Controllers whose signed commands the agent obeys: its microgrid's, and the test's observer. */
  controllers: readonly Address[];
  /** Its command server's port, known beforehand so that its controller can start alongside. */
  port: number;
}

/** The meter's key, made before the agent starts so that its address can go into the fleet. */
export async function createMeterKey(dir: string): Promise<Address> {
  await mkdir(dir, { recursive: true });
  const wallet = await createKeystore(join(dir, "key.json"), PASSPHRASE, { scryptN: 1024 });
  await writeFile(join(dir, "passphrase"), PASSPHRASE, { mode: 0o600 });
  return wallet.address as Address;
}

/**
 * A real meter agent process (`gridmesh-agent run`) over a simulated home, pulled by its microgrid
 * controller (uplink "controller") and commanded over its command server.
 */
export class MeterAgentProcess {
  readonly spec: MeterAgentSpec;
  readonly meter: Address;
  readonly service: ServiceProcess;
  readonly commandsUrl: string;
  readonly #storePath: string;
  #nonce = 0n;

  private constructor(
    spec: MeterAgentSpec,
    meter: Address,
    service: ServiceProcess,
    url: string,
    dir: string,
  ) {
    this.spec = spec;
    this.meter = meter;
    this.service = service;
    this.commandsUrl = url;
    this.#storePath = join(dir, "data", "readings.db");
  }

  /** Starts the agent whose key `createMeterKey` made in `dir`. */
  static async start(meter: Address, p: StartMeterAgentParameters): Promise<MeterAgentProcess> {
    const { dir, spec, clock, controllers, port } = p;
    if (spec.battery !== undefined) {
      const b = spec.battery;
      await writeFile(
        join(dir, "battery.json"),
        JSON.stringify({
          batteries: [
            {
              name: "home",
              kind: "simulated",
              capacity: b.capacityAh,
              stateOfCharge: b.stateOfCharge,
              voltage: BATTERY_VOLTAGE,
              maxChargeCurrent: b.maxChargeA,
              maxDischargeCurrent: b.maxDischargeA,
            },
          ],
          aggregators: [],
          splitters: [],
        }),
      );
    }
    const configPath = join(dir, "agent.json");
    await writeFile(
      configPath,
      JSON.stringify({
        dataDir: "data",
        key: { keystore: "key.json", passphraseFile: "passphrase" },
        chain: { chainId: CHAIN_ID, ledger: DELIVERY_LEDGER },
        intervalSeconds: INTERVAL_SECONDS,
        // Nearly the whole interval: at 720× a timer late by a fifth of a second is late by two
        // simulated minutes, and a sample later than this costs its interval the reading.
        boundaryToleranceMs: 290_000,
        source: {
          kind: "simulated",
          originMs: clock.now(),
          startImportWh: 10_000,
          solarPeakW: spec.solarPeakW,
          baseLoadW: spec.baseLoadW,
        },
        uplink: { kind: "controller" },
        commands: { port, controllers },
        ...(spec.battery !== undefined && { battery: { topology: "battery.json", name: "home" } }),
        clock: clock.config,
        log: { level: "info" },
      }),
    );
    const service = startService({
      name: `meter agent ${spec.name}`,
      args: [AGENT_BIN, "run", "--config", configPath],
      expectUrl: false,
    });
    const line = await waitForLog(service, "controller commands accepted").catch(async (error: unknown) => {
      await service.kill();
      throw error;
    });
    return new MeterAgentProcess(spec, meter, service, String(line.url), dir);
  }

  /**
   * The agent's own state, asked with a signed `status` command as a controller asks it. The
   * observer signs as a controller of its own (listed in the agent's configuration) with its own
   * nonces, so the microgrid controller's commands are not disturbed.
   */
  async status(observer: HDNodeWallet): Promise<MeterStatus> {
    const message = buildMeterCommand(
      this.meter,
      ++this.#nonce,
      BigInt(Math.floor(Date.now() / 1000) + 60),
      "status",
      {},
    );
    const signature = await observer.signTypedData(
      meterCommandDomain(BigInt(CHAIN_ID)),
      mutableTypes(meterCommandTypes),
      message,
    );
    const response = await fetch(new URL("/v1/commands", this.commandsUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: meterCommandToJson(message), signature }),
    });
    const body = (await response.json()) as { result?: MeterStatus; error?: unknown };
    if (response.status !== 200 || body.result === undefined)
      throw new Error(`${this.spec.name}: status answered ${response.status}: ${JSON.stringify(body)}`);
    return body.result;
  }

  /** Stops the agent (SIGTERM) and checks it stopped cleanly. */
  async stop(): Promise<void> {
    await this.service.stop();
    const { code, signal } = await this.service.exited;
    if (code !== 0)
      throw new Error(
        `${this.spec.name} stopped with ${code ?? signal}:\n${this.service.output().slice(-4000)}`,
      );
  }

  /** Every reading the agent stored, in sequence order. */
  readings(): StoredReading[] {
    return this.withStore((store) => store.since(0n, 1_000_000));
  }

  /** Reads the agent's own store (readings, meter state, billing rates); only once the agent has stopped. */
  withStore<T>(read: (store: ReadingStore) => T): T {
    if (this.service.child.exitCode === null && this.service.child.signalCode === null)
      throw new Error(`${this.spec.name} is still running: its store is read only after it stops`);
    const store = ReadingStore.open(this.#storePath, this.meter);
    try {
      return read(store);
    } finally {
      store.close();
    }
  }
}
