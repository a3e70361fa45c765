import type { Logger } from "../common/logger.js";
import type { GatewayConfig } from "../config/config.js";
import type { Database } from "./database.js";
import { createPgliteDatabase } from "./pgliteDatabase.js";
import { createPostgresDatabase } from "./postgresDatabase.js";

/** Where the store lives: the configured database, or (tests, one-off tools) memory only. */
export type DatabaseTarget = GatewayConfig["database"] | { kind: "memory" };

export interface CreateDatabaseParameters {
  database: DatabaseTarget;
  logger: Logger;
}

/** Opens the configured engine; the caller runs `migrate` before using it. */
export async function createDatabase({ database, logger }: CreateDatabaseParameters): Promise<Database> {
  switch (database.kind) {
    case "embedded":
      logger.info({ engine: "pglite", dataDir: database.dataDir }, "opening embedded database");
      return createPgliteDatabase({ dataDir: database.dataDir });
    case "memory":
      return createPgliteDatabase();
    case "postgres":
      logger.info({ engine: "postgres" }, "connecting to PostgreSQL server");
      return createPostgresDatabase({ url: database.url, logger });
  }
}
