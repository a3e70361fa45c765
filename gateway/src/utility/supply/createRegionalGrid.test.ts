import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

import { ConfigError } from "../../common/errors.js";
import { createRegionalGrid } from "./createRegionalGrid.js";
import { startRegionalGridSimulator } from "./testing/regionalGridSimulator.js";

describe("createRegionalGrid", () => {
  const dir = mkdtempSync(join(tmpdir(), "supply-feed-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads an HTTP feed's token from its file and sends it", async () => {
    const sim = await startRegionalGridSimulator({ supply: "CRITICAL", token: "s3cret" });
    try {
      const tokenFile = join(dir, "token");
      writeFileSync(tokenFile, "s3cret\n");
      const grid = await createRegionalGrid({ kind: "http", url: sim.url, timeoutMs: 1_000, tokenFile });
      assert.equal(await grid.status(), "CRITICAL");
      assert.equal(grid.source, sim.url);
    } finally {
      await sim.close();
    }
  });

  it("refuses a missing or empty token file at start", async () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, " \n");
    for (const [tokenFile, message] of [
      [join(dir, "absent"), /cannot be read/],
      [empty, /is empty/],
    ] as const) {
      await assert.rejects(
        createRegionalGrid({ kind: "http", url: "http://127.0.0.1:1", timeoutMs: 1_000, tokenFile }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    }
  });

  it("opens a file feed", async () => {
    const path = join(dir, "supply.json");
    writeFileSync(path, JSON.stringify({ supply: "EMPTY" }));
    const grid = await createRegionalGrid({ kind: "file", path });
    assert.equal(await grid.status(), "EMPTY");
    assert.equal(grid.source, `file:${path}`);
  });
});
