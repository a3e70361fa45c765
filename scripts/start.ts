/**
 * `npm start`: the whole GridMesh system on this machine on one compressed clock — a Hardhat node
 * whose blocks follow the simulated clock, the contracts, the gateway (embedded database, clearing,
 * settlement, Secure ID, the utility billing its fleet), simulated homes (real meter agents on
 * simulated serial meters and batteries), microgrid controllers and the web app. Ctrl-C (SIGINT) or
 * SIGTERM stops every process.
 *
 *   npm start -- [--homes 12] [--interval 15] [--host 127.0.0.1] [--port 8545] [--gateway-port 8080]
 *                [--web-port 3000] [--no-web] [--data-dir .gridmesh/local] [--fabric]
 *                [--log-level info]
 *
 * The work is in scripts/local/ (startLocalSystem), which tests call in process.
 */
import "./local/quietSqliteWarning.js";

import { parseArgs } from "node:util";

import {
  LocalOptionsError,
  resolveLocalSystemOptions,
  type LocalSystemOptions,
} from "./local/localOptions.js";
import type { LocalSystem } from "./local/localSystem.js";
import { formatSummary } from "./local/summary.js";

function parseOptions(argv: string[]): LocalSystemOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        homes: { type: "string" },
        interval: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "gateway-port": { type: "string" },
        "web-port": { type: "string" },
        "no-web": { type: "boolean", default: false },
        "data-dir": { type: "string" },
        fabric: { type: "boolean", default: false },
        "log-level": { type: "string" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new LocalOptionsError((error as Error).message);
  }
  const options = {
    homes: values.homes,
    interval: values.interval,
    host: values.host,
    port: values.port,
    gatewayPort: values["gateway-port"],
    webPort: values["web-port"],
    web: !values["no-web"],
    dataDir: values["data-dir"],
    fabric: values.fabric,
    logLevel: values["log-level"],
  };
  // Validated here too, so a bad flag is refused before anything starts.
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  resolveLocalSystemOptions(defined);
  return defined;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const abort = new AbortController();
  let system: LocalSystem | undefined;
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal} received, stopping\n`);
    // A start under way stops what it started and rejects; main() then exits.
    abort.abort(new Error(`${signal} received`));
    if (system === undefined) return;
    try {
      await system.stop();
      process.stdout.write("stopped\n");
      process.exit(0);
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
  };
  process.on("SIGINT", (s) => void stop(s));
  process.on("SIGTERM", (s) => void stop(s));

  process.stdout.write("Starting the GridMesh local system…\n");
  // Loaded once the warning filter listens: node:sqlite warns as it is linked.
  const { startLocalSystem } = await import("./local/startLocalSystem.js");
  try {
    system = await startLocalSystem(options, {
      signal: abort.signal,
      progress: (message) => process.stdout.write(`  ${message}\n`),
      // Ctrl-C reaches every process of the terminal's group at once: exits then are expected.
      processExited: (name, exit, logFile) => {
        if (!stopping)
          process.stderr.write(
            `warning: ${name} exited (${exit.code ?? exit.signal}); its log is ${logFile}\n`,
          );
      },
    });
  } catch (error) {
    if (abort.signal.aborted) {
      process.stdout.write("stopped\n");
      process.exit(0);
    }
    throw error;
  }
  if (stopping) {
    // The signal came as the last part started, after the start's last check.
    await system.stop();
    process.exit(0);
  }
  process.stdout.write(formatSummary(system));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
