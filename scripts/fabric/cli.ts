/**
 * `npm run fabric:up` / `fabric:down` / `fabric:build`: the GridMesh Fabric network from a shell.
 *
 *   cli.ts up                  build if needed, create on first run, start, deploy, wait until serving
 *   cli.ts down [--purge]      stop every process; --purge also deletes the network home
 *   cli.ts build               only build (or find) the Fabric binaries
 *   cli.ts status              which processes run, and their logs
 *   cli.ts stop-peer MSPID | start-peer MSPID
 *
 * GRIDMESH_FABRIC_HOME (default <repo>/.fabric) and GRIDMESH_FABRIC_PORT_BASE (default 7050) apply.
 */
import { parseArgs } from "node:util";

import { ensureFabricBinaries } from "./binaries.js";
import { resolveConfig } from "./config.js";
import { fabricDown, fabricStatus, fabricUp, startPeer, stopPeer } from "./network.js";

const USAGE = "usage: cli.ts up | down [--purge] | build | status | stop-peer MSPID | start-peer MSPID";

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    options: { purge: { type: "boolean", default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [command, arg, ...rest] = positionals;
  const needsMsp = command === "stop-peer" || command === "start-peer";
  if (rest.length > 0 || (needsMsp ? arg === undefined : arg !== undefined)) throw new Error(USAGE);
  if (values.purge && command !== "down") throw new Error(`--purge applies to down only\n${USAGE}`);

  switch (command) {
    case "up": {
      const profile = await fabricUp();
      const lines = [
        "GridMesh Fabric network is running",
        `  channel ${profile.channel}, chaincode ${profile.chaincode} (contract ${profile.contract})`,
        `  orderer  ${profile.orderer.endpoint}`,
        ...Object.values(profile.organizations).map(
          (org) => `  ${org.mspId.padEnd(13)} ${org.peer.endpoint}`,
        ),
        `  profile  ${resolveConfig().home}/network.json`,
        "",
      ];
      process.stdout.write(lines.join("\n"));
      return;
    }
    case "down":
      return fabricDown({ purge: values.purge });
    case "build": {
      const install = await ensureFabricBinaries(resolveConfig());
      process.stdout.write(`${Object.values(install.bin).join("\n")}\n`);
      return;
    }
    case "status": {
      const processes = await fabricStatus();
      if (processes.length === 0) process.stdout.write(`no network in ${resolveConfig().home}\n`);
      for (const p of processes) {
        const state = p.pid === undefined ? "stopped" : `running (pid ${p.pid})`;
        process.stdout.write(`${p.name.padEnd(20)} ${state.padEnd(22)} ${p.logFile}\n`);
      }
      return;
    }
    case "stop-peer":
      return stopPeer(arg!);
    case "start-peer":
      return startPeer(arg!);
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`fabric: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
