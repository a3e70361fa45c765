import { createLogger } from "../../common/logger.js";
import { createDatabase } from "../../store/index.js";
import { defineLeaseSuite } from "./testing/leaseSuite.js";

const logger = createLogger({ level: "silent" });

defineLeaseSuite({
  engine: "pglite",
  openDatabase: () => createDatabase({ database: { kind: "memory" }, logger }),
});
