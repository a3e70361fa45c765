import { createLogger } from "../../common/logger.js";
import { createDatabase } from "../../store/index.js";
import { defineSupplyManagerSuite } from "./testing/supplyManagerSuite.js";

const logger = createLogger({ level: "silent" });

defineSupplyManagerSuite({
  engine: "PGlite",
  openDatabase: () => createDatabase({ database: { kind: "memory" }, logger }),
});
