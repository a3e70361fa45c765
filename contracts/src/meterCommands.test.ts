import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { z } from "zod";

import {
  buildMeterCommand,
  canonicalJson,
  meterCommandDomain,
  parseMeterCommandParams,
  signedMeterCommandFromJson,
  signedMeterCommandToJson,
} from "./meterCommands.js";

const meter = "0x1111111111111111111111111111111111111111";
const signature = `0x${"ab".repeat(65)}` as const;

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof z.ZodError, `expected a ZodError, got ${String(e)}`);
    return e.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  }
  assert.fail("expected the parse to fail");
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops whitespace", () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: "x" } }),
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it("refuses values JSON cannot carry exactly", () => {
    assert.throws(() => canonicalJson(1n), TypeError);
    assert.throws(() => canonicalJson(Number.NaN), TypeError);
    assert.throws(() => canonicalJson({ a: undefined }), TypeError);
    assert.throws(() => canonicalJson(new Date(0)), TypeError);
  });
});

describe("meter command params", () => {
  it("builds the signed text from the params in canonical form", () => {
    const c = buildMeterCommand(meter, 7n, 1_800_000_000n, "put_billing_rates", {
      peakStartHour: 17,
      peakRate: "250000",
      month: "2026-01",
      offPeakRate: "120000",
      peakEndHour: 21,
    });
    assert.equal(
      c.params,
      '{"month":"2026-01","offPeakRate":"120000","peakEndHour":21,"peakRate":"250000","peakStartHour":17}',
    );
    assert.deepEqual(parseMeterCommandParams(c.command, c.params), {
      command: "put_billing_rates",
      params: {
        month: "2026-01",
        offPeakRate: "120000",
        peakEndHour: 21,
        peakRate: "250000",
        peakStartHour: 17,
      },
    });
  });

  it("decodes sequences to bigints and applies defaults", () => {
    assert.deepEqual(parseMeterCommandParams("get_readings_since", '{"sequence":"12"}'), {
      command: "get_readings_since",
      params: { sequence: 12n, limit: 100 },
    });
  });

  it("refuses a second spelling of the same params", () => {
    assert.deepEqual(
      issues(() => parseMeterCommandParams("share_power_on", '{ "batteryThreshold": 0.5 }')),
      [": must be canonical JSON (keys sorted, no whitespace)"],
    );
    assert.deepEqual(
      issues(() => parseMeterCommandParams("set_data_interval", '{"seconds":60,"seconds":61}')),
      [": must be canonical JSON (keys sorted, no whitespace)"],
    );
    assert.deepEqual(
      issues(() => parseMeterCommandParams("status", "{")),
      [": is not JSON"],
    );
  });

  it("names each bad field", () => {
    assert.deepEqual(
      issues(() => parseMeterCommandParams("share_power_on", '{"batteryThreshold":1.5}')),
      ["batteryThreshold: Too big: expected number to be <=1"],
    );
    assert.deepEqual(
      issues(() => parseMeterCommandParams("set_data_interval", '{"seconds":5}')),
      ["seconds: Too small: expected number to be >=10"],
    );
    assert.deepEqual(
      issues(() => parseMeterCommandParams("acknowledge", '{"sequences":["1","1"]}')),
      ["sequences: must not list a sequence twice"],
    );
    assert.deepEqual(
      issues(() =>
        parseMeterCommandParams("aggregate", '{"fromSequence":"9","lossless":true,"toSequence":"3"}'),
      ),
      ["toSequence: is below fromSequence"],
    );
    assert.deepEqual(
      issues(() =>
        parseMeterCommandParams("aggregate", '{"fromSequence":"1","lossless":true,"toSequence":"10001"}'),
      ),
      ["toSequence: spans more than 10000 readings"],
    );
    assert.deepEqual(
      issues(() => parseMeterCommandParams("status", '{"verbose":true}')),
      [': Unrecognized key: "verbose"'],
    );
    assert.deepEqual(
      issues(() =>
        parseMeterCommandParams(
          "put_billing_rates",
          '{"month":"2026-13","offPeakRate":"01","peakEndHour":17,"peakRate":"1","peakStartHour":17}',
        ),
      ),
      [
        "month: must be a month as YYYY-MM",
        "offPeakRate: must be a decimal integer string without leading zeros",
        "peakEndHour: must be after peakStartHour",
      ],
    );
  });

  it("refuses rates that are not base-unit integers or exceed uint256", () => {
    const params = (peakRate: string) =>
      `{"month":"2026-01","offPeakRate":"1","peakEndHour":21,"peakRate":"${peakRate}","peakStartHour":17}`;
    assert.deepEqual(
      issues(() => parseMeterCommandParams("put_billing_rates", params("0.25"))),
      ["peakRate: must be a decimal integer string without leading zeros"],
    );
    assert.deepEqual(
      issues(() => parseMeterCommandParams("put_billing_rates", params((1n << 256n).toString()))),
      ["peakRate: must fit in uint256"],
    );
  });

  it("checks params when building, so a signer cannot sign what the agent will refuse", () => {
    assert.throws(
      () => buildMeterCommand(meter, 1n, 1n, "set_data_interval", { seconds: 86_401 }),
      z.ZodError,
    );
  });
});

describe("signed meter command wire form", () => {
  it("round-trips with uint64 fields as decimal strings", () => {
    const command = buildMeterCommand(meter, 18_446_744_073_709_551_615n, 1_800_000_000n, "status", {});
    const json = signedMeterCommandToJson({ command, signature });
    assert.deepEqual(json.command, {
      meter,
      nonce: "18446744073709551615",
      expiresAt: "1800000000",
      command: "status",
      params: "{}",
    });
    assert.deepEqual(signedMeterCommandFromJson(JSON.parse(JSON.stringify(json))), { command, signature });
  });

  it("refuses unknown commands, nonce 0 and extra fields", () => {
    const base = { meter, nonce: "1", expiresAt: "1", command: "status", params: "{}" };
    assert.match(
      issues(() => signedMeterCommandFromJson({ command: { ...base, command: "reboot" }, signature }))[0]!,
      /^command\.command: must be one of get_readings_since/,
    );
    assert.deepEqual(
      issues(() => signedMeterCommandFromJson({ command: { ...base, nonce: "0" }, signature })),
      ["command.nonce: must be at least 1"],
    );
    assert.deepEqual(
      issues(() => signedMeterCommandFromJson({ command: base, signature, extra: 1 })),
      [': Unrecognized key: "extra"'],
    );
  });

  it("signs for the agent's domain on one chain", () => {
    assert.deepEqual(meterCommandDomain(31337n), {
      name: "GridMesh MeterAgent",
      version: "1",
      chainId: 31337n,
    });
  });
});
