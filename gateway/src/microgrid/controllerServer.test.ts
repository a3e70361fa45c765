import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { after, before, beforeEach, describe, it } from "node:test";

import { pino } from "pino";

import type { Clock } from "@gridmesh/contracts";

import {
  CONTROLLER_API,
  HOUR_MS,
  hourStartMs,
  type ControllerCommand,
  type ControllerStatus,
} from "./controllerApi.js";
import { openControllerDatabase } from "./controllerDatabase.js";
import { ControllerServer } from "./controllerServer.js";
import { USAGE_RETENTION_MS, UsageFiles } from "./usageFiles.js";

const token = "utility-token-for-tests";
const H10 = "2026-11-22T10:00:00Z";
const H11 = "2026-11-22T11:00:00Z";
const H12 = "2026-11-22T12:00:00Z"; // the running hour
const H13 = "2026-11-22T13:00:00Z";

interface Answer {
  status: number;
  body: { error?: { name: string; message: string; details: { issues?: { path: string }[] } } } & Record<
    string,
    unknown
  >;
  headers: Headers;
}

void describe("ControllerServer", () => {
  let dir: string;
  let db: DatabaseSync;
  let usage: UsageFiles;
  let server: ControllerServer;
  let url: string;
  let nowMs = hourStartMs(H12) + 20 * 60_000;
  const clock: Clock = { now: () => nowMs, delayUntil: (at) => Math.max(0, at - nowMs) };
  const commands: ControllerCommand[] = [];
  let contacts = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-controller-server-"));
    db = openControllerDatabase(join(dir, "controller.db"));
    usage = await UsageFiles.open({ dir: join(dir, "usage"), db, clock, logger: pino({ level: "silent" }) });
    for (const [hour, readings] of [
      [H10, [{ reading: { sequence: "1" } }]],
      [H11, [{ reading: { sequence: "2" } }, { reading: { sequence: "3" } }]],
      [H12, [{ reading: { sequence: "4" } }]],
    ] as const) {
      nowMs = hourStartMs(hour) + 60_000;
      await usage.append(readings);
    }
    server = new ControllerServer({
      controllerId: "mg-1",
      tokenSha256: createHash("sha256").update(token).digest("hex"),
      host: "127.0.0.1",
      port: 0,
      clock,
      usage,
      command: (command) => {
        commands.push(command);
        return { controllerId: "mg-1", command: command.command, forwardedTo: 3 };
      },
      status: () => ({ controllerId: "mg-1", atMs: nowMs }) as ControllerStatus,
      onUtilityContact: () => contacts++,
      logger: pino({ level: "silent" }),
    });
    url = await server.listen();
  });
  after(async () => {
    await server.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    commands.length = 0;
    contacts = 0;
    nowMs = hourStartMs(H12) + 20 * 60_000;
  });

  async function call(path: string, init: RequestInit & { auth?: string | null } = {}): Promise<Answer> {
    const { auth = token, ...rest } = init;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    const res = await fetch(url + path, { ...rest, headers });
    return { status: res.status, body: (await res.json()) as Answer["body"], headers: res.headers };
  }

  const post = (path: string, body: unknown, init: { auth?: string | null } = {}) =>
    call(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), ...init });

  const issuePaths = (a: Answer) => a.body.error?.details.issues?.map((i) => i.path).sort();

  it("refuses every request without the utility's token, before anything else", async () => {
    for (const auth of [null, "wrong-token", ""]) {
      const a = await post(CONTROLLER_API.ackHour(H11), {}, { auth });
      assert.equal(a.status, 401);
      assert.equal(a.body.error?.name, "Unauthorized");
      assert.match(a.headers.get("www-authenticate") ?? "", /^Bearer /);
      const b = await post(CONTROLLER_API.commands, { command: "reduce_power_demand_on" }, { auth });
      assert.equal(b.status, 401);
    }
    assert.equal((await call("/no/such/route", { auth: null })).status, 401, "routes are not revealed");
    assert.equal(commands.length, 0);
    assert.equal(contacts, 0, "a refused request is no proof the utility is up");
    assert.deepEqual(usage.list(H11, H11), [{ hour: H11, readings: 2, backup: false }]);
  });

  it("names every bad field of a command and forwards nothing", async () => {
    const a = await post(CONTROLLER_API.commands, {
      command: "put_billing_rates",
      params: {
        month: "2026-13",
        peakRate: "-5",
        offPeakRate: "10",
        peakStartHour: 18,
        peakEndHour: 17,
        x: 1,
      },
    });
    assert.equal(a.status, 400);
    assert.equal(a.body.error?.name, "InvalidRequest");
    assert.deepEqual(issuePaths(a), [
      "body.params.month",
      "body.params.peakEndHour",
      "body.params.peakRate",
      "body.params.x",
    ]);
    const b = await post(CONTROLLER_API.commands, { command: "set_data_interval", params: { seconds: 1 } });
    assert.deepEqual(issuePaths(b), ["body.params.seconds"]);
    const c = await post(CONTROLLER_API.commands, { command: "explode" });
    assert.deepEqual(issuePaths(c), ["body.command"]);
    const d = await post(CONTROLLER_API.commands, "{not json");
    assert.equal(d.status, 400);
    assert.equal(commands.length, 0);
  });

  it("passes a valid command on once and answers what it was forwarded to", async () => {
    const a = await post(CONTROLLER_API.commands, { command: "set_grid_supply", params: { fraction: 0.5 } });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { controllerId: "mg-1", command: "set_grid_supply", forwardedTo: 3 });
    const b = await post(CONTROLLER_API.commands, { command: "reduce_power_demand_on" });
    assert.equal(b.status, 200);
    assert.deepEqual(commands, [
      { command: "set_grid_supply", params: { fraction: 0.5 } },
      { command: "reduce_power_demand_on", params: {} },
    ]);
    assert.equal(contacts, 2);
  });

  it("lists completed hours only, and refuses a bad range naming the fields", async () => {
    const a = await call(`${CONTROLLER_API.usageHours}?from=${H10}&to=${H13}`);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, {
      controllerId: "mg-1",
      hours: [
        { hour: H10, readings: 1, backup: false },
        { hour: H11, readings: 2, backup: false },
      ],
    });
    const b = await call(`${CONTROLLER_API.usageHours}?from=2026-11-22T10:30:00Z&until=x`);
    assert.equal(b.status, 400);
    assert.deepEqual(issuePaths(b), ["query.from", "query.to", "query.until"]);
    const c = await call(`${CONTROLLER_API.usageHours}?from=${H11}&to=${H10}`);
    assert.deepEqual(issuePaths(c), ["query.to"]);
  });

  it("serves a completed hour, refuses the running one (409) and one not begun (404)", async () => {
    const a = await call(CONTROLLER_API.usageHour(H11));
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, {
      controllerId: "mg-1",
      hour: H11,
      backup: false,
      readings: [{ reading: { sequence: "2" } }, { reading: { sequence: "3" } }],
    });
    const running = await call(CONTROLLER_API.usageHour(H12));
    assert.equal(running.status, 409);
    assert.equal(running.body.error?.name, "HourRunning");
    assert.equal((await call(CONTROLLER_API.usageHour(H13))).status, 404);
    const bad = await call("/v1/usage/2026-11-22T12:30:00Z");
    assert.equal(bad.status, 400);
    assert.deepEqual(issuePaths(bad), ["path.hour"]);
  });

  it("acknowledging an hour makes its file a backup; the running hour cannot be acknowledged", async () => {
    const running = await post(CONTROLLER_API.ackHour(H12), {});
    assert.equal(running.status, 409);
    assert.deepEqual(usage.list(H12, H12), [{ hour: H12, readings: 1, backup: false }], "nothing changed");

    const a = await post(CONTROLLER_API.ackHour(H10), {});
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { controllerId: "mg-1", hour: H10, backup: true });
    assert.ok((await readdir(join(dir, "usage"))).includes("2026-11-22T10.jsonl.gz"));
    const again = await post(CONTROLLER_API.ackHour(H10), {});
    assert.equal(again.status, 200, "acknowledging twice is harmless");
    const served = await call(CONTROLLER_API.usageHour(H10));
    assert.deepEqual(served.body, {
      controllerId: "mg-1",
      hour: H10,
      backup: true,
      readings: [{ reading: { sequence: "1" } }],
    });
  });

  it("an hour without readings is empty while within ten weeks, then gone", async () => {
    const empty = "2026-11-22T09:00:00Z";
    const a = await call(CONTROLLER_API.usageHour(empty));
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.readings, []);
    nowMs = hourStartMs(empty) + HOUR_MS + USAGE_RETENTION_MS + 1;
    const b = await call(CONTROLLER_API.usageHour(empty));
    assert.equal(b.status, 404);
    assert.equal(b.body.error?.name, "HourCollected");
    assert.equal((await post(CONTROLLER_API.ackHour(empty), {})).status, 404);
  });

  it("counts usage and command requests as the utility's contact, and not a status read", async () => {
    assert.equal((await call(CONTROLLER_API.status)).status, 200);
    assert.equal(contacts, 0, "an operator reading the status is no proof the utility is up");
    assert.equal((await call(`${CONTROLLER_API.usageHours}?from=${H10}&to=${H13}`)).status, 200);
    assert.equal(contacts, 1);
  });

  it("answers 404 for an unknown route and 405 for a wrong method", async () => {
    assert.equal((await call("/v1/nothing")).status, 404);
    const a = await call(CONTROLLER_API.commands);
    assert.equal(a.status, 405);
    assert.equal(a.headers.get("allow"), "POST");
    assert.equal((await post(CONTROLLER_API.status, {})).status, 405);
    assert.equal((await call(CONTROLLER_API.status)).status, 200);
  });
});
