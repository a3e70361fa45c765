import { after, before, describe } from "node:test";

import type { Database } from "../../store/index.js";
import { startApiServer, prepareDatabase, type ApiServer } from "./apiTestContext.js";
import { describeBadInput } from "./badInputTests.js";
import { describeOpenApi } from "./openApiTests.js";
import { describeOperator } from "./operatorTests.js";
import { describeReadRoutes } from "./readRouteTests.js";

export interface ApiSuiteEngine {
  engine: Database["engine"];
  /** A new, empty database of this engine. */
  openDatabase(): Promise<Database>;
}

export interface SuiteContext {
  engine: Database["engine"];
  db: Database;
  /** The API with operator endpoints enabled. */
  api: ApiServer;
  schemaVersion: number;
  openDatabase(): Promise<Database>;
}

/**
 * The HTTP API's behaviour, run unchanged on each engine: one database with the fixtures, one
 * listening server; reads first, then refused requests (which must change nothing), then the
 * operator's writes.
 */
export function defineApiSuite(engine: ApiSuiteEngine): void {
  let context: SuiteContext | undefined;
  const ctx = () => context!;
  void describe(`HTTP API on ${engine.engine}`, () => {
    before(async () => {
      const db = await engine.openDatabase();
      const schemaVersion = await prepareDatabase(db);
      const api = await startApiServer(db, { operator: true });
      context = { engine: engine.engine, db, api, schemaVersion, openDatabase: () => engine.openDatabase() };
    });
    after(async () => {
      await context?.api.close();
      await context?.db.close();
    });
    describeReadRoutes(ctx);
    describeOpenApi(ctx);
    describeBadInput(ctx);
    describeOperator(ctx);
  });
}
