import { createLogger } from "../../common/logger.js";
import { createDatabase } from "../../store/index.js";
import { defineMonthToDateSuite } from "./testing/monthToDateSuite.js";

const logger = createLogger({ level: "silent" });

defineMonthToDateSuite({
  engine: "pglite",
  openDatabase: () => createDatabase({ database: { kind: "memory" }, logger }),
});
