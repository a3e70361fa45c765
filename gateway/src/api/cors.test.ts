import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { createLogger } from "../common/logger.js";
import { createDatabase, type Database } from "../store/index.js";
import { prepareDatabase, startApiServer, type ApiServer } from "./testing/apiTestContext.js";

const WEB_APP = "http://127.0.0.1:3000";

describe("HTTP API: cross-origin access for the web app", () => {
  let db: Database;
  let api: ApiServer;
  before(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger: createLogger({ level: "silent" }) });
    await prepareDatabase(db);
    api = await startApiServer(db, { operator: false, corsOrigins: [WEB_APP] });
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it("answers an allowed origin's preflight with the path's own methods, and marks its requests", async () => {
    const preflight = await api.call("/v1/readings", {
      method: "OPTIONS",
      headers: { origin: WEB_APP, "access-control-request-method": "POST" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), WEB_APP);
    assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, POST");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /content-type/);

    const read = await api.call("/v1/clearings", { headers: { origin: WEB_APP } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get("access-control-allow-origin"), WEB_APP);
    assert.equal(read.headers.get("vary"), "Origin");
  });

  it("gives other origins nothing: no CORS headers, and a preflight is not answered", async () => {
    const read = await api.call("/v1/clearings", { headers: { origin: "https://evil.example" } });
    assert.equal(read.status, 200); // the browser, not the server, withholds it from the page
    assert.equal(read.headers.get("access-control-allow-origin"), null);
    const preflight = await api.call("/v1/readings", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(preflight.status, 405);
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
  });

  it("leaves unknown paths to the router (404)", async () => {
    const preflight = await api.call("/v1/nothing-here", {
      method: "OPTIONS",
      headers: { origin: WEB_APP, "access-control-request-method": "GET" },
    });
    assert.equal(preflight.status, 404);
  });
});
