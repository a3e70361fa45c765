import type { Clock } from "@gridmesh/contracts";

import type { Logger } from "../../common/logger.js";
import type { Database } from "../../store/index.js";
import { createRegionalGrid } from "./createRegionalGrid.js";
import type { SupplyConfig } from "./supplyConfig.js";
import { SupplyManager } from "./supplyManager.js";

export { loadSupplyConfig, supplyConfigSchema, type SupplyConfig } from "./supplyConfig.js";
export { SupplyManager, type SupplyRoundResult } from "./supplyManager.js";
export { overrideSupplyStatus } from "./supplyOverride.js";
export { RegionalGridError, type RegionalGrid } from "./regionalGrid.js";
export { SUPPLY_STATUSES, type SupplyStatus } from "./supplyStatus.js";

/** Supply management as configured: the feed opened (its token read), the manager ready to start. */
export async function createSupplyManager({
  db,
  config,
  clock,
  logger,
}: {
  db: Database;
  config: SupplyConfig;
  clock: Clock;
  logger: Logger;
}): Promise<SupplyManager> {
  return new SupplyManager({ db, grid: await createRegionalGrid(config.feed), config, clock, logger });
}
