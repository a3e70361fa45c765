import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { Wallet } from "ethers";

import {
  meterCommandDomain,
  meterCommandTypes,
  mutableTypes,
  signedMeterCommandToJson,
  type Address,
  type Hex,
  type MeterCommand,
  type MeterCommandName,
} from "@gridmesh/contracts";

import { CommandExecutor } from "./commandExecutor.js";
import { COMMANDS_PATH, CommandServer } from "./commandServer.js";
import { appendReadings, meterAddress, tempStore, type TempStore } from "./commandTesting.js";
import { readBillingRates, readMeterState } from "./meterState.js";

const chainId = 31337n;
const controller = new Wallet(`0x${"22".repeat(32)}`);
const stranger = new Wallet(`0x${"33".repeat(32)}`);
const otherMeter = new Wallet(`0x${"44".repeat(32)}`).address as Address;
const nowMs = 1_767_225_600_000;
const nowSeconds = BigInt(nowMs / 1000);
const types = mutableTypes(meterCommandTypes);

interface Answer {
  status: number;
  body: { error?: { name: string; message: string; details: Record<string, unknown> } } & Record<
    string,
    unknown
  >;
  headers: Headers;
}

describe("CommandServer", () => {
  let temp: TempStore;
  let executor: CommandExecutor;
  let server: CommandServer;
  let url: string;
  let nonce = 0n;

  /** A command as the gateway would send it; `params` is taken as the exact signed text. */
  async function signed(
    command: MeterCommandName,
    params: string,
    overrides: Partial<MeterCommand> & { wallet?: Wallet; chainId?: bigint } = {},
  ) {
    const { wallet = controller, chainId: chain = chainId, ...fields } = overrides;
    const message: MeterCommand = {
      meter: meterAddress,
      nonce: ++nonce,
      expiresAt: nowSeconds + 60n,
      command,
      params,
      ...fields,
    };
    const signature = (await wallet.signTypedData(meterCommandDomain(chain), types, message)) as Hex;
    return signedMeterCommandToJson({ command: message, signature });
  }

  async function post(body: unknown, init: RequestInit = {}): Promise<Answer> {
    const res = await fetch(url + COMMANDS_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
      ...init,
    });
    return { status: res.status, body: (await res.json()) as Answer["body"], headers: res.headers };
  }

  /** Everything a refused command must leave as it was. */
  function snapshot() {
    return {
      counts: temp.store.counts(),
      delivered: temp.store.since(0n, 100).map((r) => r.deliveredMs),
      state: readMeterState(temp.store),
      rates: readBillingRates(temp.store),
      nonce: executor.lastNonce(controller.address as Address),
      strangerNonce: executor.lastNonce(stranger.address as Address),
    };
  }

  async function refused(body: unknown, status: number, name: string, message: RegExp): Promise<void> {
    const before = snapshot();
    const answer = await post(body);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error?.name, name);
    assert.match(answer.body.error?.message ?? "", message);
    assert.deepEqual(snapshot(), before);
  }

  before(async () => {
    temp = tempStore();
    await appendReadings(temp.store, [100n, 101n, 102n]);
    executor = new CommandExecutor({ store: temp.store, clock: { now: () => nowMs } });
    server = new CommandServer({
      executor,
      chainId,
      controllers: [controller.address as Address],
      host: "127.0.0.1",
      port: 0,
      clock: { now: () => nowMs },
    });
    url = await server.listen();
  });

  after(async () => {
    await server.close();
    temp.remove();
  });

  beforeEach(() => {
    // Each test starts above every nonce used so far, so tests do not depend on their order.
    nonce = executor.lastNonce(controller.address as Address);
  });

  describe("accepts a controller's command", () => {
    it("applies share_power_on and answers with the new state", async () => {
      const answer = await post(await signed("share_power_on", '{"batteryThreshold":0.45}'));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.command, "share_power_on");
      assert.equal(answer.body.nonce, nonce.toString());
      assert.deepEqual(answer.body.result, { state: readMeterState(temp.store) });
      assert.equal(readMeterState(temp.store).sharingPower, true);
      assert.equal(readMeterState(temp.store).batteryThreshold, 0.45);
      assert.equal(answer.headers.get("content-type"), "application/json; charset=utf-8");
    });

    it("hands out readings and takes their acknowledgement", async () => {
      const got = await post(await signed("get_readings_since", '{"limit":10,"sequence":"0"}'));
      assert.equal(got.status, 200);
      const readings = (got.body.result as { readings: { reading: { sequence: string } }[] }).readings;
      assert.deepEqual(
        readings.map((r) => r.reading.sequence),
        ["1", "2", "3"],
      );
      const ack = await post(await signed("acknowledge", '{"sequences":["1","2"]}'));
      assert.equal(ack.status, 200);
      assert.deepEqual(ack.body.result, { acknowledged: ["1", "2"], alreadyDelivered: [], unknown: [] });
      assert.equal(temp.store.get(2n)?.deliveredVia, "controller");
    });

    it("reports the meter's status", async () => {
      const answer = await post(await signed("status", "{}"));
      assert.equal(answer.status, 200);
      const result = answer.body.result as { meter: string; counts: { total: number } };
      assert.equal(result.meter, meterAddress);
      assert.equal(result.counts.total, 3);
    });
  });

  describe("refuses, changing nothing", () => {
    it("a body that is not JSON (400)", async () => {
      await refused("{not json", 400, "CommandMalformedError", /the body is not JSON/);
    });

    it("a body that is not a signed command (400)", async () => {
      const good = await signed("status", "{}");
      await refused({ command: good.command }, 400, "CommandMalformedError", /signature: Invalid input/);
      await refused(
        { ...good, command: { ...good.command, nonce: 7 } },
        400,
        "CommandMalformedError",
        /command\.nonce: Invalid input: expected string/,
      );
      await refused(
        { ...good, command: { ...good.command, command: "format_disk" } },
        400,
        "CommandMalformedError",
        /command\.command: must be one of/,
      );
    });

    it("a forged signature: params changed after signing (401)", async () => {
      const good = await signed("share_power_on", '{"batteryThreshold":0.9}');
      const forged = { ...good, command: { ...good.command, params: '{"batteryThreshold":0.1}' } };
      await refused(
        forged,
        401,
        "CommandUnauthorizedError",
        /signed by 0x[0-9a-fA-F]{40}, which is not a controller/,
      );
    });

    it("bytes that are no signature at all (401)", async () => {
      const good = await signed("status", "{}");
      await refused(
        { ...good, signature: `0x${"00".repeat(65)}` },
        401,
        "CommandUnauthorizedError",
        /not a valid EIP-712 signature/,
      );
    });

    it("a command from a key that is not a controller (401)", async () => {
      const answer = await signed("reduce_power_demand_on", "{}", { wallet: stranger });
      await refused(answer, 401, "CommandUnauthorizedError", new RegExp(`signed by ${stranger.address}`));
    });

    it("a controller's command signed for another chain (401)", async () => {
      await refused(
        await signed("reduce_power_demand_on", "{}", { chainId: 1n }),
        401,
        "CommandUnauthorizedError",
        /not a controller/,
      );
    });

    it("a controller's command for another meter (403)", async () => {
      await refused(
        await signed("reduce_power_demand_on", "{}", { meter: otherMeter }),
        403,
        "CommandWrongMeterError",
        new RegExp(`for meter ${otherMeter}, this is meter ${meterAddress}`),
      );
    });

    it("a replayed command, and one older than the last accepted (409)", async () => {
      const first = await signed("set_data_interval", '{"seconds":60}');
      const older = await signed("set_data_interval", '{"seconds":90}', { nonce: 1n });
      const second = await signed("set_data_interval", '{"seconds":120}');
      assert.equal((await post(second)).status, 200);
      await refused(second, 409, "CommandReplayedError", /is not above .* a replayed or stale command/);
      await refused(first, 409, "CommandReplayedError", /is not above/);
      await refused(older, 409, "CommandReplayedError", /nonce 1 is not above/);
      assert.equal(readMeterState(temp.store).dataIntervalSeconds, 120);
    });

    it("a replayed acknowledge (409)", async () => {
      const ack = await signed("acknowledge", '{"sequences":["3"]}');
      assert.equal((await post(ack)).status, 200);
      await refused(ack, 409, "CommandReplayedError", /replayed/);
    });

    it("an expired command (410)", async () => {
      await refused(
        await signed("reduce_power_demand_on", "{}", { expiresAt: nowSeconds - 1n }),
        410,
        "CommandExpiredError",
        /expired at/,
      );
      await refused(
        await signed("reduce_power_demand_on", "{}", { expiresAt: nowSeconds }),
        410,
        "CommandExpiredError",
        /expired at/,
      );
    });

    it("a command valid too far into the future (422)", async () => {
      await refused(
        await signed("reduce_power_demand_on", "{}", { expiresAt: nowSeconds + 3601n }),
        422,
        "CommandParamsError",
        /after the latest accepted expiry/,
      );
    });

    it("bad params (422)", async () => {
      await refused(
        await signed("share_power_on", '{"batteryThreshold":1.5}'),
        422,
        "CommandParamsError",
        /invalid params for share_power_on: batteryThreshold: Too big/,
      );
      await refused(
        await signed("set_data_interval", '{"seconds":86401}'),
        422,
        "CommandParamsError",
        /seconds: Too big/,
      );
      await refused(
        await signed(
          "put_billing_rates",
          '{"month":"2026-1","offPeakRate":"1","peakEndHour":9,"peakRate":"2","peakStartHour":8}',
        ),
        422,
        "CommandParamsError",
        /month: must be a month as YYYY-MM/,
      );
      await refused(
        await signed("share_power_on", '{"batteryThreshold": 0.5}'),
        422,
        "CommandParamsError",
        /must be canonical JSON/,
      );
    });
  });

  describe("HTTP", () => {
    it("answers other routes 404 and other methods 405", async () => {
      const missing = await fetch(`${url}/v1/other`, { method: "POST", body: "{}" });
      assert.equal(missing.status, 404);
      const get = await fetch(url + COMMANDS_PATH);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get("allow"), "POST");
      assert.equal(((await get.json()) as Answer["body"]).error?.name, "MethodNotAllowed");
    });

    it("refuses a body above the limit (413)", async () => {
      const before = snapshot();
      const answer = await post(JSON.stringify({ padding: "x".repeat(70_000) }));
      assert.equal(answer.status, 413);
      assert.equal(answer.body.error?.name, "PayloadTooLarge");
      // Streamed without a length, the limit is found while reading.
      const chunk = new TextEncoder().encode("x".repeat(40_000));
      const streamed = await post(
        new ReadableStream({
          start(controller) {
            controller.enqueue(chunk);
            controller.enqueue(chunk);
            controller.close();
          },
        }),
        { duplex: "half" },
      );
      assert.equal(streamed.status, 413);
      assert.deepEqual(snapshot(), before);
    });
  });
});
