import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

import { StoreError } from "../common/errors.js";
import { createLogger } from "../common/logger.js";
import { createDatabase } from "./createDatabase.js";
import { defineStoreSuite } from "./testing/storeSuite.js";

const logger = createLogger({ level: "silent" });
const root = mkdtempSync(join(tmpdir(), "gridmesh-pglite-"));
after(() => rmSync(root, { recursive: true, force: true }));
let databases = 0;

// Each database is a data directory, as the gateway's embedded default uses, not memory only.
defineStoreSuite({
  engine: "pglite",
  concurrentClients: false,
  newDatabase() {
    const dataDir = join(root, `db${++databases}`, "gateway-db");
    return Promise.resolve({
      connect: () => createDatabase({ database: { kind: "embedded", dataDir }, logger }),
    });
  },
});

describe("embedded database", () => {
  it("refuses a second opening of a data directory that is in use, and allows it once closed", async () => {
    const dataDir = join(root, "locked", "gateway-db");
    const first = await createDatabase({ database: { kind: "embedded", dataDir }, logger });
    try {
      await assert.rejects(
        createDatabase({ database: { kind: "embedded", dataDir }, logger }),
        (error: unknown) => error instanceof StoreError && /already open in process/.test(error.message),
      );
    } finally {
      await first.close();
    }
    const again = await createDatabase({ database: { kind: "embedded", dataDir }, logger });
    await again.close();
  });

  it("runs in memory for tests and tools", async () => {
    const db = await createDatabase({ database: { kind: "memory" }, logger });
    try {
      assert.deepEqual((await db.query("SELECT 1 + 1 AS two")).rows, [{ two: 2 }]);
    } finally {
      await db.close();
    }
  });
});
