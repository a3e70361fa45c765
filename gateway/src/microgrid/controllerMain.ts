/**
 * `npm run controller -w gateway -- --config controller.json`: one microgrid controller process.
 * The configuration file may also be named by GRIDMESH_CONTROLLER_CONFIG. JSON logs on stdout;
 * SIGINT/SIGTERM stop it cleanly.
 */
import type { HDNodeWallet, Wallet } from "ethers";

import { configuredClock } from "@gridmesh/contracts";

import { ConfigError } from "../common/errors.js";
import { createLogger } from "../common/logger.js";
import { shutdownOnSignals } from "../common/shutdown.js";
import { configPathFrom, loadControllerConfig, type ControllerConfig } from "./controllerConfig.js";
import { unlockControllerKey } from "./controllerKey.js";
import { MicrogridController } from "./microgridController.js";

async function main(): Promise<void> {
  let config: ControllerConfig;
  let wallet: Wallet | HDNodeWallet;
  try {
    config = await loadControllerConfig(configPathFrom(process.argv.slice(2), process.env));
    wallet = await unlockControllerKey(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger({ level: config.log.level }).child({ component: "microgrid-controller" });
  const clock = configuredClock(config.clock);
  const shutdown = shutdownOnSignals(logger);
  const controller = new MicrogridController({ config, signer: wallet, clock, logger });
  shutdown.add("controller", () => controller.stop());
  const url = await controller.start();
  if (!shutdown.isShuttingDown)
    process.stdout.write(
      `${JSON.stringify({ msg: "controller listening", url, controller: wallet.address })}\n`,
    );
}

main().catch((err: unknown) => {
  process.stderr.write(`controller failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
