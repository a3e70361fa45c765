import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { StoreError } from "../common/errors.js";
import { createLogger } from "../common/logger.js";
import { createDatabase } from "./createDatabase.js";
import { type PostgresServer, startPostgresServer } from "./testing/postgresServer.js";
import { defineStoreSuite } from "./testing/storeSuite.js";

const logger = createLogger({ level: "silent" });
let server: PostgresServer;
let databases = 0;

before(async () => {
  server = await startPostgresServer();
});
after(() => server?.stop());

defineStoreSuite({
  engine: "postgres",
  concurrentClients: true,
  async newDatabase() {
    const url = await server.createDatabase(`gateway_${++databases}`);
    return { connect: () => createDatabase({ database: { kind: "postgres", url }, logger }) };
  },
});

describe("PostgreSQL connection", () => {
  it("fails at start, not at first use, when the database is missing or the server unreachable", async () => {
    const missing = `postgres://postgres@127.0.0.1:${server.port}/no_such_database`;
    await assert.rejects(
      createDatabase({ database: { kind: "postgres", url: missing }, logger }),
      (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.equal(error.code, "3D000");
        assert.equal(error.retryable, false);
        return true;
      },
    );
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const unreachable = "postgres://postgres@127.0.0.1:1/gateway";
    await assert.rejects(
      createDatabase({ database: { kind: "postgres", url: unreachable }, logger }),
      (error: unknown) =>
        error instanceof StoreError && error.retryable && error.details.errno === "ECONNREFUSED",
    );
  });
});
