import { createLogger } from "../common/logger.js";
import { createDatabase } from "../store/index.js";
import { defineUtilitySuite } from "./testing/utilitySuite.js";

const logger = createLogger({ level: "silent" });

defineUtilitySuite({
  engine: "pglite",
  openDatabase: () => createDatabase({ database: { kind: "memory" }, logger }),
});
