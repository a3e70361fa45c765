/**
 * `gridmesh-utility`: the utility alone (seed 000 §2.2): polling the microgrid controllers, the
 * CIDB, statistics and exports, supply priorities and billing, with the operator API, without the
 * market. Configuration from the environment (README, "Utility"); JSON logs on stdout.
 */
import { createServer } from "node:http";

import { createApiHandler } from "./api/apiHandler.js";
import { ConfigError } from "./common/errors.js";
import { listen } from "./common/listen.js";
import { createLogger } from "./common/logger.js";
import { shutdownOnSignals } from "./common/shutdown.js";
import { loadServerConfig } from "./config/config.js";
import { loadUtilityPartsSetup, UtilityParts } from "./service/utilityParts.js";
import { createDatabase } from "./store/createDatabase.js";
import { migrate } from "./store/migrate.js";

function loadConfig(env: NodeJS.ProcessEnv) {
  const problems: string[] = [];
  let server;
  let setup;
  try {
    server = loadServerConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  try {
    setup = loadUtilityPartsSetup(env);
    if (setup === undefined) problems.push("GRIDMESH_UTILITY_FLEET: required (the fleet file)");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0 || server === undefined || setup === undefined) throw new ConfigError(problems);
  return { server, setup };
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { server: serverConfig, setup } = config;
  const logger = createLogger({ level: serverConfig.logLevel });
  const shutdown = shutdownOnSignals(logger);

  const db = await createDatabase({ database: serverConfig.database, logger });
  shutdown.add("database", () => db.close());
  await migrate(db, { logger });
  const { clock } = setup;
  const parts = await UtilityParts.create({
    db,
    clock,
    logger,
    // Readings are signed per market interval, so the two lengths are one here.
    config: { ...setup, marketIntervalSeconds: setup.utility.readings.intervalSeconds },
  });
  const server = createServer(
    createApiHandler({
      db,
      clock,
      operatorTokenSha256: serverConfig.operatorTokenSha256,
      corsOrigins: serverConfig.http.corsOrigins,
      status: () => parts.status(),
      logger: logger.child({ part: "api" }),
    }),
  );
  const url = await listen(server, serverConfig.http.host, serverConfig.http.port);
  // Stopped in reverse: the API first, then the loops, then the database (added first, runs last).
  shutdown.add("utility", () => parts.stop());
  shutdown.add("http", async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  });
  if (shutdown.isShuttingDown) return;
  parts.start();
  process.stdout.write(`${JSON.stringify({ msg: "utility listening", url })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`utility failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
