import { after, before } from "node:test";

import { createLogger } from "../../common/logger.js";
import { createDatabase } from "../../store/index.js";
import { startPostgresServer, type PostgresServer } from "../../store/testing/postgresServer.js";
import { defineSupplyManagerSuite } from "./testing/supplyManagerSuite.js";

const logger = createLogger({ level: "silent" });
let server: PostgresServer;

before(async () => {
  server = await startPostgresServer();
});
after(() => server?.stop());

defineSupplyManagerSuite({
  engine: "PostgreSQL",
  async openDatabase() {
    const url = await server.createDatabase("supply");
    return createDatabase({ database: { kind: "postgres", url }, logger });
  },
});
