import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, it, type TestContext } from "node:test";

import { AggregateBattery } from "../aggregateBattery.js";
import type { Battery } from "../battery.js";
import {
  BatteryAuthError,
  BatteryProtocolError,
  BatteryRangeError,
  BatteryUnavailableError,
} from "../errors.js";
import { simulatedBattery } from "../simulatedBattery.js";
import { Splitter } from "../splitter.js";
import { BatteryServer, type BatteryServerOptions } from "./batteryServer.js";
import { NetworkedBattery, type NetworkedBatteryOptions } from "./networkedBattery.js";
import { sharedSecret } from "./sharedSecret.js";
import { authHeaders, responseSignature } from "./signing.js";

const secret = "node-b-secret-0123456789-abcdefghijklm";
const minute = 60_000;

/** A battery clock the test moves; the servers' request clocks stay on the wall clock. */
function testTime() {
  const time = { now: 1_700_000_000_000 };
  return { time, clock: () => time.now };
}

async function serve(
  t: TestContext,
  batteries: Battery[],
  keys: BatteryServerOptions["keys"] = { "node-a": { secret } },
) {
  const server = new BatteryServer({ batteries, keys, port: 0 });
  const url = await server.listen();
  t.after(() => server.close());
  return { server, url };
}

/** Node B serves H (100 Ah, 30 A out, 20 A in); node A reaches it as a NetworkedBattery. */
async function rig(t: TestContext, options: Partial<NetworkedBatteryOptions> = {}) {
  const { time, clock } = testTime();
  const H = simulatedBattery(
    "H",
    { capacity: 100, stateOfCharge: 0.5, maxChargeCurrent: 20, maxDischargeCurrent: 30 },
    clock,
  ).battery;
  const { server, url } = await serve(t, [H]);
  const remote = new NetworkedBattery("H", { url, keyId: "node-a", secret, ...options });
  return { H, remote, server, url, time };
}

/** A plain HTTP server that answers every request with `answer`, for what a real server never sends. */
async function impostor(
  t: TestContext,
  answer: (nonce: string) => { status: number; body: string; headers?: Record<string, string> },
) {
  const server = createServer((req, res) => {
    const { status, body, headers } = answer(String(req.headers[authHeaders.nonce]));
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}/`;
}

describe("NetworkedBattery", () => {
  it("reports the remote battery's status exactly", async (t) => {
    const { H, remote, time } = await rig(t);
    assert.deepEqual(await remote.getStatus(), await H.getStatus());
    await H.setCurrent(-8);
    time.now += 30 * minute;
    assert.deepEqual(await remote.getStatus(), await H.getStatus());
  });

  it("commands the remote battery", async (t) => {
    const { H, remote, time } = await rig(t);
    await remote.setCurrent(25);
    assert.equal((await H.getStatus()).current, 25);
    time.now += 60 * minute;
    const status = await remote.getStatus();
    assert.equal(status.current, 25);
    assert.equal(status.stateOfCharge, 0.25);
  });

  it("raises the remote range error as a BatteryRangeError, and the remote battery is unchanged", async (t) => {
    const { H, remote } = await rig(t);
    await remote.setCurrent(10);
    await assert.rejects(remote.setCurrent(30.5), (error: unknown) => {
      assert.ok(error instanceof BatteryRangeError);
      assert.equal(error.message, 'battery "H": cannot discharge at 30.5 A, the limit is 30 A');
      assert.equal(error.details.limit, 30);
      assert.equal(error.details.direction, "discharge");
      assert.match(String((error.cause as Error).message), /127\.0\.0\.1.*cannot discharge/);
      return true;
    });
    await assert.rejects(remote.setCurrent(-21), BatteryRangeError);
    await assert.rejects(remote.setCurrent(Number.NaN), BatteryRangeError);
    assert.equal((await H.getStatus()).current, 10);
  });

  it("goes by its own name here and the remote one on the server", async (t) => {
    const { H, url } = await rig(t);
    const mine = new NetworkedBattery("home-2/H", { url, remoteName: "H", keyId: "node-a", secret });
    await mine.setCurrent(3);
    assert.equal((await H.getStatus()).current, 3);
    await assert.rejects(mine.setCurrent(99), /^BatteryRangeError: battery "home-2\/H": cannot discharge/);
    const missing = new NetworkedBattery("Z", { url, keyId: "node-a", secret });
    await assert.rejects(missing.getStatus(), (error: unknown) => {
      assert.ok(error instanceof BatteryProtocolError);
      assert.match(error.message, /battery "Z": .* refused the request \(404\): no battery named "Z"/);
      return true;
    });
  });

  it("is refused with the wrong secret, without the secret in the error", async (t) => {
    const { H, url } = await rig(t);
    const wrong = "not-node-b-secret-0123456789-abcdefghij";
    const intruder = new NetworkedBattery("H", { url, keyId: "node-a", secret: wrong });
    await assert.rejects(intruder.setCurrent(5), (error: unknown) => {
      assert.ok(error instanceof BatteryAuthError);
      assert.match(error.message, /battery "H": .* refused key "node-a": signature does not match/);
      assert.ok(!`${error.message}${JSON.stringify(error.details)}`.includes(wrong));
      assert.ok(!`${error.message}${JSON.stringify(error.details)}`.includes(secret));
      return true;
    });
    assert.equal((await H.getStatus()).current, 0);
  });

  it("is refused when its clock is too far off the server's", async (t) => {
    const { remote } = await rig(t, { clock: () => Date.now() - 5 * minute });
    await assert.rejects(remote.getStatus(), (error: unknown) => {
      assert.ok(error instanceof BatteryAuthError);
      assert.match(error.message, /timestamp is -30\d s off the server's clock/);
      return true;
    });
  });

  it("raises a clear, retryable error, never a made-up status, when the server is down", async (t) => {
    const { server, url } = await rig(t);
    await server.close();
    const remote = new NetworkedBattery("H", { url, keyId: "node-a", secret });
    for (const attempt of [remote.getStatus(), remote.setCurrent(1)]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof BatteryUnavailableError);
        assert.ok(error.retryable);
        assert.match(
          error.message,
          /^battery "H": (read status|set current 1 A) failed: cannot reach http:\/\/127\.0\.0\.1:\d+\/: connect ECONNREFUSED/,
        );
        return true;
      });
    }
  });

  it("gives up after its timeout when the server does not answer", async (t) => {
    const hung = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      hung.closeAllConnections();
      return new Promise((resolve) => hung.close(resolve));
    });
    const { port } = hung.address() as { port: number };
    const remote = new NetworkedBattery("H", {
      url: `http://127.0.0.1:${port}`,
      keyId: "node-a",
      secret,
      timeout: 100,
    });
    await assert.rejects(remote.setCurrent(1), (error: unknown) => {
      assert.ok(error instanceof BatteryUnavailableError);
      assert.match(
        error.message,
        /no answer from http:\/\/127\.0\.0\.1:\d+\/ within 100 ms \(the command may or may not have been applied\)/,
      );
      return true;
    });
  });

  it("refuses answers not signed for its request: forged, or replayed from another request", async (t) => {
    const madeUp = JSON.stringify({
      capacity: 100,
      stateOfCharge: 1,
      maxChargeCurrent: 0,
      maxDischargeCurrent: 30,
      voltage: 51.2,
      current: 0,
      expected: { capacity: 100, stateOfCharge: 1, maxChargeCurrent: 20, maxDischargeCurrent: 30 },
      timestamp: [0, 0],
    });
    const key = sharedSecret(secret, "test");
    const unsigned = await impostor(t, () => ({ status: 200, body: madeUp }));
    const stale = await impostor(t, () => ({
      status: 200,
      body: madeUp,
      // Genuinely signed with the shared key, but for an earlier request's nonce.
      headers: {
        [authHeaders.signature]: responseSignature(key, {
          nonce: "AAAAAAAAAAAAAAAAAAAAAA",
          status: 200,
          body: madeUp,
        }).toString("hex"),
      },
    }));
    const genuine = await impostor(t, (nonce) => ({
      status: 200,
      body: madeUp,
      headers: {
        [authHeaders.signature]: responseSignature(key, { nonce, status: 200, body: madeUp }).toString("hex"),
      },
    }));
    for (const url of [unsigned, stale]) {
      const remote = new NetworkedBattery("H", { url, keyId: "node-a", secret });
      await assert.rejects(
        remote.getStatus(),
        /BatteryAuthError: battery "H": the answer from .* is not signed with key "node-a"/,
      );
    }
    // The check itself is right: the same answer signed for this request is taken.
    const remote = new NetworkedBattery("H", { url: genuine, keyId: "node-a", secret });
    assert.equal((await remote.getStatus()).stateOfCharge, 1);
  });

  it("is refused configuration it cannot use safely", () => {
    const base = { url: "http://127.0.0.1:1/", keyId: "node-a", secret };
    assert.throws(() => new NetworkedBattery("H", { ...base, url: "ftp://x/" }), /url must be an http/);
    assert.throws(
      () => new NetworkedBattery("H", { ...base, url: "http://u:p@x/" }),
      /must not carry a user name/,
    );
    assert.throws(() => new NetworkedBattery("H", { ...base, secret: "short" }), /at least 32 are required/);
    assert.throws(() => new NetworkedBattery("H", { ...base, keyId: "a b" }), /key id must be/);
  });

  it("serves as an aggregate member exactly as the same battery would locally", async (t) => {
    const { time, clock } = testTime();
    const spec = (capacity: number, max: number, stateOfCharge: number) => ({
      capacity,
      stateOfCharge,
      maxChargeCurrent: max,
      maxDischargeCurrent: max,
    });
    // Table III.2.1's A (60 A, 110 Ah) and B (40 A, 40 Ah), unbalanced so that every rule shows.
    const local = new AggregateBattery("C", [
      simulatedBattery("A", spec(110, 60, 0.4), clock).battery,
      simulatedBattery("B", spec(40, 40, 0.9), clock).battery,
    ]);
    const servedB = simulatedBattery("B", spec(40, 40, 0.9), clock).battery;
    const { url } = await serve(t, [servedB]);
    const mixed = new AggregateBattery("C", [
      simulatedBattery("A", spec(110, 60, 0.4), clock).battery,
      new NetworkedBattery("B", { url, keyId: "node-a", secret }),
    ]);

    assert.deepEqual(await mixed.getStatus(), await local.getStatus());
    for (const current of [40, -35, 0]) {
      await Promise.all([local.setCurrent(current), mixed.setCurrent(current)]);
      time.now += 20 * minute;
      assert.deepEqual(await mixed.getStatus(), await local.getStatus(), `after ${current} A`);
    }
    const limit = (await local.getStatus()).maxDischargeCurrent;
    const [byLocal, byMixed] = await Promise.allSettled([
      local.setCurrent(limit + 1),
      mixed.setCurrent(limit + 1),
    ]);
    assert.ok(byLocal.status === "rejected" && byMixed.status === "rejected");
    assert.ok(byMixed.reason instanceof BatteryRangeError);
    assert.equal(String(byMixed.reason), String(byLocal.reason));
    assert.deepEqual(await mixed.getStatus(), await local.getStatus());
  });

  it("drops out of an aggregate while its server is down, as an offline member", async (t) => {
    const { clock } = testTime();
    const { server, url } = await rig(t);
    const local = simulatedBattery(
      "A",
      { capacity: 50, stateOfCharge: 0.5, maxChargeCurrent: 10, maxDischargeCurrent: 10 },
      clock,
    ).battery;
    const aggregate = new AggregateBattery("C", [
      local,
      new NetworkedBattery("H", { url, keyId: "node-a", secret }),
    ]);
    assert.equal((await aggregate.getStatus()).capacity, 150);
    await server.close();
    const status = await aggregate.getStatus();
    assert.equal(status.capacity, 50, "only the reachable member counts now");
    assert.equal(status.expected.capacity, 150, "the remote one is still expected");
  });

  it("composes across nodes: a partition of a remote battery, served on again", async (t) => {
    // Node B serves H; node A splits its networked H and serves partition P1; node C uses P1.
    const { H, url: nodeB } = await rig(t);
    const splitter = new Splitter(new NetworkedBattery("H", { url: nodeB, keyId: "node-a", secret }), [
      { name: "P1", fraction: 0.6 },
      { name: "P2", fraction: 0.4 },
    ]);
    const nodeCSecret = "node-c-secret-0123456789-abcdefghijklm";
    const { url: nodeA } = await serve(t, [...splitter.partitions], { "node-c": { secret: nodeCSecret } });
    const P1 = new NetworkedBattery("P1", { url: nodeA, keyId: "node-c", secret: nodeCSecret });

    const status = await P1.getStatus();
    assert.equal(status.capacity, 60);
    assert.equal(status.maxDischargeCurrent, 18);
    await P1.setCurrent(12);
    assert.equal((await H.getStatus()).current, 12);
    await assert.rejects(P1.setCurrent(18.5), (error: unknown) => {
      assert.ok(error instanceof BatteryRangeError);
      assert.match(error.message, /battery "P1": cannot discharge at 18\.5 A, the limit is 18 A/);
      return true;
    });
    assert.equal((await H.getStatus()).current, 12);
  });
});
