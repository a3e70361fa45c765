import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";

import { simulatedBattery } from "../simulatedBattery.js";
import { BatteryServer, type BatteryServerOptions } from "./batteryServer.js";
import { sharedSecret } from "./sharedSecret.js";
import { authHeaders, responseSignature, signatureMatches, signRequest } from "./signing.js";

const hoaSecret = "hoa-secret-0123456789-abcdefghijklmnop";
const guestSecret = "guest-secret-0123456789-abcdefghijklmn";
const hoaKey = sharedSecret(hoaSecret, "test");

/**
 * A server on 127.0.0.1 with an ephemeral port serving H (30 A out, 20 A in) and O1; "hoa" may use
 * both, "guest" only O1. Logs are collected to check what they say.
 */
async function rig(t: TestContext, options: Partial<BatteryServerOptions> = {}) {
  const time = { now: 1_700_000_000_000 };
  const clock = () => time.now;
  const H = simulatedBattery(
    "H",
    { capacity: 100, stateOfCharge: 0.5, maxChargeCurrent: 20, maxDischargeCurrent: 30 },
    clock,
  ).battery;
  const O1 = simulatedBattery(
    "O1",
    { capacity: 40, stateOfCharge: 0.5, maxChargeCurrent: 10, maxDischargeCurrent: 10 },
    clock,
  ).battery;
  const logs: Record<string, unknown>[] = [];
  const server = new BatteryServer({
    batteries: [H, O1],
    keys: { hoa: { secret: hoaSecret }, guest: { secret: guestSecret, batteries: ["O1"] } },
    port: 0,
    logger: {
      warn: (context, msg) => logs.push({ level: "warn", msg, ...context }),
      error: (context, msg) => logs.push({ level: "error", msg, ...context }),
    },
    ...options,
  });
  const url = await server.listen();
  t.after(() => server.close());
  return { server, url, H, O1, time, logs };
}

interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/** Sends a request exactly as given, headers included, and reads the whole answer. */
async function send(url: string, request: RawRequest) {
  const response = await fetch(new URL(request.path, url), {
    method: request.method,
    headers: { "content-type": "application/json", ...request.headers },
    ...(request.body ? { body: request.body } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: (text === "" ? undefined : JSON.parse(text)) as { error: { name: string; message: string } },
    signature: response.headers.get(authHeaders.signature),
  };
}

/** Signs a request with a key (hoa's by default) and a clock (now by default). */
function signed(
  request: Omit<RawRequest, "headers">,
  keyId = "hoa",
  secret = hoaSecret,
  clock: () => number = Date.now,
): RawRequest {
  const headers = signRequest(
    keyId,
    sharedSecret(secret, "test"),
    { method: request.method, path: request.path, body: request.body ?? "" },
    clock,
  );
  return { ...request, headers };
}

const setH = (current: unknown) => ({
  method: "PUT",
  path: "/batteries/H/current",
  body: JSON.stringify({ current }),
});
const statusOf = (name: string) => ({ method: "GET", path: `/batteries/${encodeURIComponent(name)}/status` });

describe("BatteryServer", () => {
  it("serves a battery's status exactly as the battery reports it, in a signed answer", async (t) => {
    const { url, H } = await rig(t);
    const request = signed(statusOf("H"));
    const answer = await send(url, request);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, await H.getStatus());
    const expected = responseSignature(hoaKey, {
      nonce: request.headers![authHeaders.nonce]!,
      status: 200,
      body: answer.text,
    });
    assert.ok(signatureMatches(expected, answer.signature ?? ""));
  });

  it("lists the batteries each key may use", async (t) => {
    const { url } = await rig(t);
    const list = { method: "GET", path: "/batteries" };
    assert.deepEqual((await send(url, signed(list))).json, { batteries: ["H", "O1"] });
    assert.deepEqual((await send(url, signed(list, "guest", guestSecret))).json, { batteries: ["O1"] });
  });

  it("sets the current of the battery named in the path", async (t) => {
    const { url, H, O1 } = await rig(t);
    const answer = await send(url, signed(setH(-12.5)));
    assert.equal(answer.status, 204);
    assert.equal((await H.getStatus()).current, -12.5);
    assert.equal((await O1.getStatus()).current, 0);
  });

  it("answers an out-of-range request with 422 and the battery's own message, changing nothing", async (t) => {
    const { url, H } = await rig(t);
    await send(url, signed(setH(10)));
    const answer = await send(url, signed(setH(31)));
    assert.equal(answer.status, 422);
    assert.deepEqual(answer.json, {
      error: {
        name: "BatteryRangeError",
        message: 'battery "H": cannot discharge at 31 A, the limit is 30 A',
        details: { battery: "H", requested: 31, limit: 30, direction: "discharge" },
      },
    });
    assert.equal((await H.getStatus()).current, 10);
  });

  it("answers malformed requests with 400, unknown batteries with 404, wrong methods with 405", async (t) => {
    const { url } = await rig(t);
    const cases: [RawRequest, number, string][] = [
      [setH("lots"), 400, "current: Invalid input: expected number, received string"],
      [{ ...setH(1), body: '{"current": 1, "also": 2}' }, 400, 'Unrecognized key: "also"'],
      [{ ...setH(1), body: "current=1" }, 400, "the body is not JSON"],
      [statusOf("Z"), 404, 'no battery named "Z"'],
      [{ method: "GET", path: "/batteries/H/voltage" }, 404, "no route /batteries/H/voltage"],
      [{ method: "GET", path: "/batteries/%E0%A4%A/status" }, 400, "not valid percent-encoding"],
      [{ ...setH(1), method: "POST" }, 405, "method POST not allowed, use PUT"],
    ];
    for (const [request, status, message] of cases) {
      const answer = await send(url, signed(request));
      assert.equal(answer.status, status, `${request.method} ${request.path} ${request.body ?? ""}`);
      assert.equal(answer.json.error.name, "BatteryProtocolError");
      assert.ok(answer.json.error.message.includes(message), answer.json.error.message);
      assert.ok(answer.signature !== null, "an authenticated request gets a signed answer");
    }
  });

  it("answers 403 when a key asks for a battery outside its scope", async (t) => {
    const { url, H } = await rig(t);
    const answer = await send(url, signed(setH(5), "guest", guestSecret));
    assert.equal(answer.status, 403);
    assert.equal(answer.json.error.message, 'key "guest" may not use battery "H"');
    assert.equal((await H.getStatus()).current, 0);
  });

  it("refuses requests without authentication headers, or with an unknown key", async (t) => {
    const { url } = await rig(t);
    const bare = await send(url, statusOf("H"));
    assert.equal(bare.status, 401);
    assert.match(bare.json.error.message, /missing or malformed authentication headers: x-gridmesh-key-id/);
    const stranger = await send(url, signed(statusOf("H"), "stranger"));
    assert.equal(stranger.status, 401);
    assert.equal(stranger.json.error.message, 'unknown key id "stranger"');
  });

  it("refuses a request signed with the wrong secret, and never logs or echoes a secret", async (t) => {
    const { url, H, logs } = await rig(t);
    const wrong = "not-the-hoa-secret-0123456789-abcdefgh";
    const answer = await send(url, signed(setH(5), "hoa", wrong));
    assert.equal(answer.status, 401);
    assert.match(answer.json.error.message, /signature does not match/);
    assert.equal(answer.signature, null, "nothing is signed for a client that did not prove its key");
    assert.equal((await H.getStatus()).current, 0);
    assert.equal(logs.length, 1);
    assert.equal(logs[0]!.keyId, "hoa");
    const said = JSON.stringify(logs) + answer.text;
    for (const secret of [wrong, hoaSecret, guestSecret]) assert.ok(!said.includes(secret));
  });

  it("refuses a replayed request, even a harmless read", async (t) => {
    const { url, H } = await rig(t);
    const captured = signed(setH(5));
    assert.equal((await send(url, captured)).status, 204);
    await send(url, signed(setH(0)));
    const replay = await send(url, captured);
    assert.equal(replay.status, 401);
    assert.match(replay.json.error.message, /nonce already used/);
    assert.equal((await H.getStatus()).current, 0, "the replay changed nothing");

    const read = signed(statusOf("H"));
    assert.equal((await send(url, read)).status, 200);
    assert.equal((await send(url, read)).status, 401);
  });

  it("refuses a timestamp outside the window, either way", async (t) => {
    const { url } = await rig(t);
    const stale = await send(
      url,
      signed(statusOf("H"), "hoa", hoaSecret, () => Date.now() - 31_000),
    );
    assert.equal(stale.status, 401);
    assert.match(stale.json.error.message, /timestamp is -3[01] s off the server's clock; at most ±30 s/);
    const early = await send(
      url,
      signed(statusOf("H"), "hoa", hoaSecret, () => Date.now() + 31_000),
    );
    assert.equal(early.status, 401);
    const skewed = await send(
      url,
      signed(statusOf("H"), "hoa", hoaSecret, () => Date.now() - 20_000),
    );
    assert.equal(skewed.status, 200, "within the window");
  });

  it("refuses a request whose body, path or method was altered after signing", async (t) => {
    const { url, H } = await rig(t);
    const original = signed(setH(5));
    const tampered: RawRequest[] = [
      { ...original, body: JSON.stringify({ current: 30 }) },
      { ...original, path: "/batteries/O1/current" },
      { ...original, body: "", method: "GET", path: "/batteries/H/status" },
    ];
    for (const request of tampered) {
      const answer = await send(url, request);
      assert.equal(answer.status, 401);
      assert.match(answer.json.error.message, /signature does not match/);
    }
    assert.equal((await H.getStatus()).current, 0);
  });

  it("refuses new requests rather than forget live nonces when its replay cache is full", async (t) => {
    const { url } = await rig(t, { maxNonces: 2 });
    assert.equal((await send(url, signed(statusOf("H")))).status, 200);
    assert.equal((await send(url, signed(statusOf("H")))).status, 200);
    const full = await send(url, signed(statusOf("H")));
    assert.equal(full.status, 503);
    assert.equal(full.json.error.name, "BatteryUnavailableError");
  });

  it("refuses oversized bodies before authenticating them", async (t) => {
    const { url } = await rig(t, { maxBodyBytes: 64 });
    const answer = await send(
      url,
      signed({ ...setH(1), body: JSON.stringify({ current: 1, pad: "x".repeat(100) }) }),
    );
    assert.equal(answer.status, 413);
  });

  it("refuses to start with short secrets, bad key ids, or scopes naming unknown batteries", () => {
    const H = simulatedBattery("H", {
      capacity: 1,
      stateOfCharge: 0,
      maxChargeCurrent: 1,
      maxDischargeCurrent: 1,
    });
    assert.throws(
      () =>
        new BatteryServer({
          batteries: [H.battery],
          keys: { "a b": { secret: hoaSecret }, ok: { secret: "short", batteries: ["Z"] } },
          port: 0,
        }),
      (error: Error) => {
        assert.match(error.message, /key id "a b" must be/);
        assert.match(error.message, /key "ok": no battery named "Z"/);
        assert.match(error.message, /key "ok": the shared secret has 5 characters/);
        assert.ok(!error.message.includes(hoaSecret));
        return true;
      },
    );
  });
});
