import { after, before } from "node:test";

import { createLogger } from "../common/logger.js";
import { createDatabase } from "../store/index.js";
import { type PostgresServer, startPostgresServer } from "../store/testing/postgresServer.js";
import { defineUtilitySuite } from "./testing/utilitySuite.js";

const logger = createLogger({ level: "silent" });
let server: PostgresServer;
let databases = 0;

before(async () => {
  server = await startPostgresServer();
});
after(() => server?.stop());

// The same suite on a PostgreSQL server: one private server, a fresh database per test.
defineUtilitySuite({
  engine: "postgres",
  async openDatabase() {
    const url = await server.createDatabase(`utility_${++databases}`);
    return createDatabase({ database: { kind: "postgres", url }, logger });
  },
});
