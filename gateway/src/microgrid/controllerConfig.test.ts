import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { ConfigError } from "../common/errors.js";
import {
  CONTROLLER_CONFIG_ENV,
  configPathFrom,
  loadControllerConfig,
  parseControllerConfig,
  type ControllerConfigInput,
} from "./controllerConfig.js";

const meterA = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F";
const valid: ControllerConfigInput = {
  controllerId: "residential-1",
  dataDir: "data",
  http: { port: 8600 },
  utility: { healthUrl: "http://127.0.0.1:8080/v1/health", tokenSha256: "ab".repeat(32) },
  key: { keystore: "keys/controller.json", passphraseFile: "/run/credentials/pass" },
  chainId: 31337,
  meters: [{ meter: meterA.toLowerCase(), url: "http://10.0.0.2:8700", battery: true }],
};

function problems(json: unknown): readonly string[] {
  try {
    parseControllerConfig(json, "/etc/gridmesh");
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("the configuration was accepted");
}

void describe("parseControllerConfig", () => {
  it("fills the defaults, resolves paths against the file's folder and checksums addresses", () => {
    const c = parseControllerConfig(valid, "/etc/gridmesh");
    assert.equal(c.dataDir, "/etc/gridmesh/data");
    assert.deepEqual(c.key, {
      keystore: "/etc/gridmesh/keys/controller.json",
      passphraseFile: "/run/credentials/pass",
    });
    assert.deepEqual(c.http, { host: "127.0.0.1", port: 8600 });
    assert.equal(c.dataIntervalSeconds, 300);
    assert.deepEqual(c.utility, {
      healthUrl: "http://127.0.0.1:8080/v1/health",
      tokenSha256: "ab".repeat(32),
      checkEveryMs: 30_000,
      offlineAfterMs: 120_000,
      timeoutMs: 5_000,
    });
    assert.deepEqual(c.meters, [
      { meter: meterA, url: "http://10.0.0.2:8700", battery: true, batteryThreshold: 0.3 },
    ]);
    assert.deepEqual(c.polling, {
      concurrency: 4,
      pageSize: 500,
      retryDelayMs: 5_000,
      requestTimeoutMs: 10_000,
      commandLifetimeSeconds: 60,
    });
    assert.equal(c.clock, undefined);
    assert.equal(c.log.level, "info");
  });

  it("names every bad field at once", () => {
    const found = problems({
      ...valid,
      controllerId: "Residential 1",
      http: { port: 70_000 },
      utility: {
        healthUrl: "ftp://utility",
        tokenSha256: "secret",
        checkEveryMs: 60_000,
        offlineAfterMs: 1_000,
      },
      chainId: 0,
      meters: [
        { meter: meterA, url: "http://a:1", batteryThreshold: 1.5 },
        { meter: meterA.toLowerCase(), url: "not a url" },
      ],
      dataIntervalSeconds: 5,
      extra: true,
    });
    const fields = found.map((p) => p.split(":", 1)[0]);
    assert.deepEqual(fields.toSorted(), [
      "chainId",
      "controllerId",
      "dataIntervalSeconds",
      "extra",
      "http.port",
      "meters.0.batteryThreshold",
      "meters.1.meter",
      "meters.1.url",
      "utility.healthUrl",
      "utility.offlineAfterMs",
      "utility.tokenSha256",
    ]);
  });

  it("refuses a meter listed twice and an outage shorter than one probe", () => {
    const found = problems({
      ...valid,
      utility: { ...valid.utility, checkEveryMs: 60_000, offlineAfterMs: 1_000 },
      meters: [valid.meters[0], { ...valid.meters[0], meter: meterA }],
    });
    assert.deepEqual(found, [
      "meters.1.meter: repeats meters.0",
      "utility.offlineAfterMs: must be at least checkEveryMs: one failed probe cannot tell an outage",
    ]);
  });

  it("refuses an address whose mixed case is not its checksum, and an empty meter list", () => {
    const badChecksum = meterA.replace("C7", "c7");
    assert.deepEqual(problems({ ...valid, meters: [{ ...valid.meters[0], meter: badChecksum }] }), [
      "meters.0.meter: has an invalid checksum (mixed case that is not EIP-55)",
    ]);
    assert.deepEqual(problems({ ...valid, meters: [] }), ["meters: name at least one meter"]);
  });

  it("names missing sections", () => {
    const { key: _key, utility: _utility, ...rest } = valid;
    assert.deepEqual(
      problems(rest).map((p) => p.split(":", 1)[0]),
      ["utility", "key"],
    );
  });
});

void describe("loadControllerConfig and configPathFrom", () => {
  it("reads the file, resolving paths beside it, and says which file is broken", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gridmesh-controller-config-"));
    try {
      await writeFile(join(dir, "controller.json"), JSON.stringify(valid));
      const c = await loadControllerConfig(join(dir, "controller.json"));
      assert.equal(c.dataDir, join(dir, "data"));
      await writeFile(join(dir, "broken.json"), "{");
      await assert.rejects(loadControllerConfig(join(dir, "broken.json")), /broken\.json is not JSON/);
      await assert.rejects(
        loadControllerConfig(join(dir, "absent.json")),
        /cannot read .*absent\.json: ENOENT/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes --config first, then the environment", () => {
    assert.equal(configPathFrom(["--config", "a.json"], { [CONTROLLER_CONFIG_ENV]: "b.json" }), "a.json");
    assert.equal(configPathFrom(["--config=c.json"], {}), "c.json");
    assert.equal(configPathFrom([], { [CONTROLLER_CONFIG_ENV]: "b.json" }), "b.json");
    assert.throws(() => configPathFrom([], {}), /pass --config <file> or set GRIDMESH_CONTROLLER_CONFIG/);
    assert.throws(() => configPathFrom(["--config"], {}), /--config needs a file name/);
  });
});
