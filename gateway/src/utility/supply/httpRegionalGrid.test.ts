import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, afterEach, before, describe, it } from "node:test";

import { listen } from "../../common/listen.js";
import { HttpRegionalGrid } from "./httpRegionalGrid.js";
import { RegionalGridError } from "./regionalGrid.js";
import { startRegionalGridSimulator, type RegionalGridSimulator } from "./testing/regionalGridSimulator.js";

describe("the regional grid over HTTP", () => {
  let sim: RegionalGridSimulator;
  let grid: HttpRegionalGrid;

  before(async () => {
    sim = await startRegionalGridSimulator({ supply: "NORMAL", token: "grid-token" });
    grid = new HttpRegionalGrid({ url: `${sim.url}/`, timeoutMs: 300, token: "grid-token" });
  });
  after(() => sim.close());
  afterEach(() => {
    sim.fault = undefined;
    sim.supply = "NORMAL";
    sim.maxGrantWh = undefined;
  });

  it("reports the grid's supply status as the grid says it", async () => {
    for (const supply of ["LOW", "CRITICAL", "EMPTY", "NORMAL"] as const) {
      sim.supply = supply;
      assert.equal(await grid.status(), supply);
    }
  });

  it("buys, and learns the status from the purchase's answer", async () => {
    sim.supply = "LOW";
    sim.maxGrantWh = 7_000n;
    assert.deepEqual(await grid.purchase(12_345n), {
      requestedWh: 12_345n,
      grantedWh: 7_000n,
      supply: "LOW",
    });
    sim.supply = "EMPTY";
    assert.deepEqual(await grid.purchase(10n), { requestedWh: 10n, grantedWh: 0n, supply: "EMPTY" });
    assert.deepEqual(sim.purchases.slice(-2), [
      { requestedWh: 12_345n, grantedWh: 7_000n, supply: "LOW" },
      { requestedWh: 10n, grantedWh: 0n, supply: "EMPTY" },
    ]);
  });

  it("sends amounts beyond 2^53 exactly", async () => {
    const wh = 2n ** 60n + 1n;
    assert.equal((await grid.purchase(wh)).grantedWh, wh);
  });

  it("turns an error status into a RegionalGridError carrying it", async () => {
    sim.fault = "unavailable";
    await assert.rejects(grid.status(), (e: unknown) => {
      assert.ok(e instanceof RegionalGridError);
      assert.match(e.message, /answered 503: .*supply desk unavailable/);
      assert.equal(e.retryable, true);
      assert.equal(e.details.status, 503);
      return true;
    });
  });

  it("refuses an answer whose status is not one of the four", async () => {
    sim.fault = "malformed";
    await assert.rejects(grid.status(), /malformed answer \(supply: /);
  });

  it("gives up on a feed that does not answer within the timeout", async () => {
    sim.fault = "stall";
    const started = performance.now();
    await assert.rejects(grid.purchase(5n), /did not answer within 300 ms/);
    assert.ok(performance.now() - started < 2_000);
  });

  it("is refused without the right token", async () => {
    const stranger = new HttpRegionalGrid({ url: sim.url, timeoutMs: 1_000, token: "wrong" });
    await assert.rejects(stranger.status(), /answered 401/);
  });

  it("reports an unreachable feed as such", async () => {
    const server = createServer();
    const url = await listen(server, "127.0.0.1", 0);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const gone = new HttpRegionalGrid({ url, timeoutMs: 1_000 });
    await assert.rejects(gone.status(), (e: unknown) => {
      assert.ok(e instanceof RegionalGridError);
      assert.match(e.message, /is unreachable: .*ECONNREFUSED/);
      return true;
    });
  });

  it("refuses a grant larger than the purchase and an answer that is not JSON", async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.method === "POST" ? JSON.stringify({ grantedWh: "11", supply: "NORMAL" }) : "<html>");
    });
    const url = await listen(server, "127.0.0.1", 0);
    try {
      const liar = new HttpRegionalGrid({ url, timeoutMs: 1_000 });
      await assert.rejects(liar.purchase(10n), /granted 11 Wh of the 10 Wh asked/);
      await assert.rejects(liar.status(), /not JSON/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
