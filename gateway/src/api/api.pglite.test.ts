import { createDatabase } from "../store/index.js";
import { createLogger } from "../common/logger.js";
import { defineApiSuite } from "./testing/apiSuite.js";

const logger = createLogger({ level: "silent" });

defineApiSuite({
  engine: "pglite",
  openDatabase: () => createDatabase({ database: { kind: "memory" }, logger }),
});
