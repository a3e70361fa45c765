import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

import { FileRegionalGrid } from "./fileRegionalGrid.js";
import { RegionalGridError } from "./regionalGrid.js";

describe("the regional grid as an operator's file", () => {
  const dir = mkdtempSync(join(tmpdir(), "supply-file-"));
  const path = join(dir, "supply.json");
  const grid = new FileRegionalGrid(path);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("answers with what the file says, and follows edits at the next question", async () => {
    writeFileSync(path, JSON.stringify({ supply: "LOW" }));
    assert.equal(await grid.status(), "LOW");
    assert.deepEqual(await grid.purchase(500n), { requestedWh: 500n, grantedWh: 500n, supply: "LOW" });
    writeFileSync(path, JSON.stringify({ supply: "CRITICAL", maxGrantWh: "200" }));
    assert.deepEqual(await grid.purchase(500n), { requestedWh: 500n, grantedWh: 200n, supply: "CRITICAL" });
    writeFileSync(path, JSON.stringify({ supply: "EMPTY" }));
    assert.deepEqual(await grid.purchase(500n), { requestedWh: 500n, grantedWh: 0n, supply: "EMPTY" });
  });

  it("is an error, never NORMAL, when the file is missing, not JSON or malformed", async () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /cannot be read/],
      ["{supply: LOW", /is not JSON/],
      [JSON.stringify({ supply: "normal" }), /is malformed \(supply: /],
      [JSON.stringify({ supply: "LOW", extra: true }), /is malformed/],
    ];
    for (const [content, message] of cases) {
      rmSync(path, { force: true });
      if (content !== undefined) writeFileSync(path, content);
      await assert.rejects(grid.status(), (e: unknown) => {
        assert.ok(e instanceof RegionalGridError);
        assert.match(e.message, message);
        assert.ok(e.message.includes(path));
        return true;
      });
    }
  });
});
