import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";

import { FakeController } from "../testing/fakeController.js";
import { TestClock } from "../testing/testClock.js";
import { ControllerClient } from "./controllerClient.js";
import { ControllerRequestError } from "./controllerRequestError.js";

const HOUR = "2026-03-10T09:00:00Z";

describe("ControllerClient", () => {
  const clock = new TestClock(Date.parse("2026-03-10T10:30:00Z"));
  let dir: string;
  let fake: FakeController;
  let tokenFile: string;
  const servers: Server[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gridmesh-client-"));
    fake = await FakeController.start("res-1", clock);
    tokenFile = join(dir, "token");
    writeFileSync(tokenFile, `${fake.token}\n`);
  });
  after(async () => {
    await fake.down();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    fake.failures = undefined;
    writeFileSync(tokenFile, `${fake.token}\n`);
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  const client = (url = fake.url, timeoutMs = 2_000) =>
    new ControllerClient({ controllerId: "res-1", url, tokenFile, timeoutMs });
  const serve = async (listener: RequestListener) => {
    const server = createServer(listener);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => assert.fail("succeeded"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ControllerRequestError, String(error));
    return error;
  };

  it("gets an hour, lists hours and acknowledges, with the bearer token from the file", async () => {
    fake.hours.set(HOUR, { readings: [{ any: "reading" }], backup: false });
    const hour = await client().usageHour(HOUR);
    assert.deepEqual(hour, {
      controllerId: "res-1",
      hour: HOUR,
      backup: false,
      readings: [{ any: "reading" }],
    });
    assert.deepEqual(await client().acknowledge(HOUR), { controllerId: "res-1", hour: HOUR, backup: true });
    const listed = await client().usageHours("2026-03-10T00:00:00Z", "2026-03-10T23:00:00Z");
    assert.deepEqual(listed.hours, [{ hour: HOUR, readings: 1, backup: true }]);
  });

  it("names the controller, the request, the status and the controller's message", async () => {
    fake.failures = { status: 503, count: 1 };
    const busy = await failure(client().usageHour(HOUR));
    assert.equal(busy.message, `controller res-1: GET /v1/usage/${HOUR} answered 503: failing on purpose`);
    assert.deepEqual(
      [busy.status, busy.controllerMessage, busy.retryable, busy.refused],
      [503, "failing on purpose", true, false],
    );

    const running = await failure(client().usageHour("2026-03-10T10:00:00Z"));
    assert.equal(running.status, 409);
    assert.ok(running.retryable, "a running hour is asked for again later");

    const invalid = await failure(client().command({ command: "set_data_interval", params: { seconds: 5 } }));
    assert.equal(invalid.status, 400);
    assert.ok(invalid.refused, "a command the controller refuses is not sent again");
  });

  it("reads the token at each request: a wrong one is a retryable 401, a rotated one works at once", async () => {
    writeFileSync(tokenFile, "another-token-that-is-long-enough\n");
    const denied = await failure(client().status());
    assert.equal(denied.status, 401);
    assert.ok(denied.retryable);
    assert.ok(!denied.message.includes("another-token"), "the token never appears in errors");
    writeFileSync(tokenFile, `${fake.token}\n`);
    assert.equal((await client().status()).controllerId, "res-1");
  });

  it("fails with the reason when the controller is unreachable, slow or off contract", async () => {
    const closed = await serve(() => {});
    servers.pop()!.close();
    const refused = await failure(client(closed).usageHour(HOUR));
    assert.equal(refused.kind, "network");
    assert.match(
      refused.message,
      /^controller res-1: GET \/v1\/usage\/2026-03-10T09:00:00Z is unreachable: ECONNREFUSED/,
    );

    const silent = await serve(() => {});
    const slow = await failure(client(silent, 150).usageHour(HOUR));
    assert.equal(slow.kind, "timeout");
    assert.match(slow.message, /did not answer in time \(150 ms\)$/);

    const impostor = await serve((_req, res) =>
      res.end(JSON.stringify({ controllerId: "apt-9", hour: HOUR, backup: false, readings: [] })),
    );
    assert.match(
      (await failure(client(impostor).usageHour(HOUR))).message,
      /answered outside the contract: answered as controller apt-9$/,
    );

    const garbled = await serve((_req, res) =>
      res.end(JSON.stringify({ controllerId: "res-1", hour: HOUR })),
    );
    const bad = await failure(client(garbled).usageHour(HOUR));
    assert.equal(bad.kind, "invalid-response");
    assert.match(bad.message, /backup: /);
  });
});
