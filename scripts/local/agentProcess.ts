import { writeFile } from "node:fs/promises";
import path from "node:path";

import { MARKET_INTERVAL_SECONDS, type LogLevel } from "./localOptions.js";
import { jsonLine, ManagedProcess } from "./managedProcess.js";
import type { MeterKeys } from "./meterIdentity.js";
import type { SimulatedClock } from "./simulatedClock.js";
import type { HomeSpec } from "./homeSpecs.js";

const AGENT_BIN = path.resolve(import.meta.dirname, "../../meter-agent/bin/gridmesh-agent.mjs");

export interface StartAgentParameters {
  spec: HomeSpec;
  keys: MeterKeys;
  logsDir: string;
  chainId: number;
  ledger: string;
  gatewayUrl: string;
  /** Where the home's simulated devices answer. */
  lines: { meter: string; bms: string | undefined };
  commands: { host: string; port: number; controller: string };
  clock: SimulatedClock;
  /**
   * The market, the chain and the owner whose delegation to the meter's address (sell floor, buy
   * ceiling, volume per interval, expiry) bounds every order: the agent trades only while one is
   * live, so a home trades by hand until its owner sets a rule.
   */
  trading: { market: string; rpcUrl: string; owner: string } | undefined;
  logLevel: LogLevel;
}

/** The agent's configuration file (meter-agent/src/agent/agentConfig.ts), paths relative to it. */
export function agentConfig(p: StartAgentParameters): Record<string, unknown> {
  return {
    dataDir: "data",
    key: { keystore: "meter-key.json", passphraseFile: "passphrase", scryptN: 1024 },
    chain: { chainId: p.chainId, ledger: p.ledger },
    intervalSeconds: MARKET_INTERVAL_SECONDS,
    // A third of the interval: on a busy machine at 60× a boundary timer a second late is a
    // simulated minute late, and a sample later than this costs the interval its reading.
    boundaryToleranceMs: (MARKET_INTERVAL_SECONDS * 1000) / 3,
    source: { kind: "sdm", path: p.lines.meter, baudRate: 9600, slave: 1, model: "SDM120" },
    // Pushed to the gateway, which relays them to the ledger for settlement, and pulled by the
    // microgrid controller for the utility's hourly usage and bills; each delivered on its own.
    uplinks: [{ kind: "gateway", url: `${p.gatewayUrl}/v1/readings` }, { kind: "controller" }],
    commands: { host: p.commands.host, port: p.commands.port, controllers: [p.commands.controller] },
    ...(p.lines.bms !== undefined && {
      battery: {
        topology: "battery.json",
        // A shared battery's household partition is the home's; the report covers all of them.
        name: p.spec.battery?.partitions?.[0]?.name ?? "home",
        reportUrl: `${p.gatewayUrl}/v1/battery-reports`,
      },
    }),
    // The agent offers its forecast surplus at the delegation's floor and bids for its deficit at
    // its ceiling, each interval, from the meter's own address.
    ...(p.trading !== undefined && { trading: p.trading }),
    clock: p.clock.config,
    identity: { deviceKey: "device-key.json", gateway: p.gatewayUrl },
    log: { level: p.logLevel },
  };
}

/** Writes the home's configuration (and battery topology) and starts `gridmesh-agent run` on it. */
export async function startAgent(p: StartAgentParameters): Promise<ManagedProcess<string>> {
  const { spec, keys } = p;
  if (p.lines.bms !== undefined && spec.battery !== undefined) {
    const topology = {
      batteries: [
        {
          name: "home",
          kind: "jbd",
          maxChargeCurrent: spec.battery.maxChargeA,
          maxDischargeCurrent: spec.battery.maxDischargeA,
          interface: { path: p.lines.bms, baudRate: 9600 },
        },
      ],
      aggregators: [],
      splitters:
        spec.battery.partitions === undefined
          ? []
          : [{ source: "home", policy: "proportional", partitions: spec.battery.partitions }],
    };
    await writeFile(path.join(keys.dir, "battery.json"), `${JSON.stringify(topology, null, 2)}\n`);
  }
  const configFile = path.join(keys.dir, "agent.json");
  await writeFile(configFile, `${JSON.stringify(agentConfig(p), null, 2)}\n`, { mode: 0o600 });
  const agent = new ManagedProcess<string>({
    name: `agent ${spec.name}`,
    args: [AGENT_BIN, "run", "--config", configFile],
    logFile: path.join(p.logsDir, `agent-${spec.name}.log`),
    ready: (line) => {
      const json = jsonLine(line);
      return json?.msg === "controller commands accepted" && typeof json.url === "string"
        ? json.url
        : undefined;
    },
  });
  return agent;
}
