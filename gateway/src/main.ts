/**
 * `gridmesh-gateway`: the gateway process. Configuration from the environment (see
 * config/config.ts and the README), JSON logs on stdout; SIGINT/SIGTERM stop it cleanly.
 */
import { ConfigError } from "./common/errors.js";
import { createLogger } from "./common/logger.js";
import { shutdownOnSignals } from "./common/shutdown.js";
import { loadGatewayConfig } from "./config/config.js";
import { GatewayService } from "./service/gatewayService.js";
import { loadUtilityPartsSetup } from "./service/utilityParts.js";

async function main(): Promise<void> {
  let config;
  let utility;
  try {
    config = loadGatewayConfig(process.env);
    // The utility's side runs here too when a fleet is configured (GRIDMESH_UTILITY_FLEET).
    utility = loadUtilityPartsSetup(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger({ level: config.logLevel });
  const shutdown = shutdownOnSignals(logger);
  const service = await GatewayService.start({ config, logger, ...(utility !== undefined && { utility }) });
  if (shutdown.isShuttingDown) await service.stop();
  else shutdown.add("gateway", () => service.stop());
  process.stdout.write(`${JSON.stringify({ msg: "gateway listening", url: service.url })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
