import { createLogger } from "../../common/logger.js";
import { createDatabase } from "../../store/index.js";
import { defineBillingSuite } from "./testing/billingSuite.js";

const logger = createLogger({ level: "silent" });

defineBillingSuite({
  engine: "pglite",
  openDatabase: () => createDatabase({ database: { kind: "memory" }, logger }),
});
