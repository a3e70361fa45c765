import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { tempDir } from "../testing/tempDir.js";

const AGENT = fileURLToPath(new URL("../../bin/gridmesh-agent.mjs", import.meta.url));
const PASSPHRASE = "a passphrase for the cli test";

/** Runs the real CLI in `cwd`; resolves with its exit code and output instead of throwing. */
async function cli(cwd: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [AGENT, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

const initArgs = [
  "init",
  "--config",
  "agent.json",
  "--passphrase-file",
  "pass",
  "--chain-id",
  "31337",
  "--ledger",
  "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "--interval",
  "60",
  "--simulated",
  "--controller",
  "--scrypt-n",
  "1024",
];

describe("gridmesh-agent CLI", { timeout: 60_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeFile(join(dir, "pass"), `${PASSPHRASE}\n`, { mode: 0o600 });
  });
  afterEach(() => cleanup());

  it("init creates an encrypted key and a valid configuration; status and export-public read them", async () => {
    const init = await cli(dir, ...initArgs);
    assert.equal(init.code, 0, init.stderr);
    const { meter, deviceId } = JSON.parse(init.stdout) as { meter: string; deviceId: string };
    assert.match(deviceId, /^0x[0-9a-f]{64}$/);
    const key = await readFile(join(dir, "meter-key.json"), "utf8");
    assert.ok(!key.includes(PASSPHRASE));
    assert.equal((await stat(join(dir, "agent.json"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "device-key.json"))).mode & 0o777, 0o600);
    assert.ok(!(await readFile(join(dir, "device-key.json"), "utf8")).includes(PASSPHRASE));

    const pub = await cli(dir, "export-public", "--config", "agent.json");
    assert.equal(pub.code, 0, pub.stderr);
    const exported = JSON.parse(pub.stdout) as {
      meter: string;
      publicKey: string;
      deviceId: string;
      devicePublicKey: string;
    };
    assert.equal(exported.meter, meter);
    assert.match(exported.publicKey, /^0x04[0-9a-f]{128}$/);
    assert.equal(exported.deviceId, deviceId);
    assert.equal(
      `0x${createHash("sha256").update(Buffer.from(exported.devicePublicKey, "hex")).digest("hex")}`,
      deviceId,
    );

    const status = await cli(dir, "status", "--config", "agent.json");
    assert.equal(status.code, 0, status.stderr);
    const state = JSON.parse(status.stdout) as { meter: string; counts: unknown };
    assert.deepEqual(state.counts, { total: 0, pending: 0, delivered: 0, expired: 0 });
    assert.equal(state.meter, meter.toLowerCase());

    const again = await cli(dir, ...initArgs);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refusing to overwrite/);
  });

  it("names every bad configuration field, and creates nothing on a bad init", async () => {
    const bad = await cli(dir, ...initArgs.map((a) => (a === "31337" ? "0" : a === "60" ? "1.5" : a)));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /chain\.chainId: .*/);
    assert.match(bad.stderr, /intervalSeconds: .*/);
    await assert.rejects(stat(join(dir, "meter-key.json")), /ENOENT/);

    await writeFile(
      join(dir, "broken.json"),
      JSON.stringify({
        dataDir: "d",
        key: { keystore: "k.json" },
        chain: { chainId: 1, ledger: "0x12" },
        intervalSeconds: 900,
        source: { kind: "sdm" },
        uplink: { kind: "carrier-pigeon" },
      }),
    );
    const run = await cli(dir, "run", "--config", "broken.json");
    assert.equal(run.code, 1);
    for (const field of [
      "key: give exactly one of passphraseFile or passphraseEnv",
      "chain.ledger",
      "source.path",
      "uplink.kind",
    ]) {
      assert.ok(run.stderr.includes(field), `${field} not named in:\n${run.stderr}`);
    }
    assert.ok(!run.stderr.includes("    at "), "a configuration error is a message, not a stack trace");
  });

  it("refuses a wrong passphrase without revealing either passphrase", async () => {
    assert.equal((await cli(dir, ...initArgs)).code, 0);
    await writeFile(join(dir, "pass"), "not the right passphrase\n");
    const pub = await cli(dir, "export-public", "--config", "agent.json");
    assert.equal(pub.code, 1);
    assert.match(pub.stderr, /wrong passphrase for the keystore/);
    assert.ok(!pub.stderr.includes("not the right") && !pub.stderr.includes(PASSPHRASE));
  });

  it("stops in order on SIGTERM, logging its start and its stop", async () => {
    assert.equal((await cli(dir, ...initArgs)).code, 0);
    const child = spawn(process.execPath, [AGENT, "run", "--config", "agent.json"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("meter agent started")) resolve();
      }),
    );
    child.kill("SIGTERM");
    const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.match(out, /"signal":"SIGTERM".*"msg":"stopping"/);
    assert.match(out, /"msg":"meter agent stopped"/);
    assert.ok(!out.includes(PASSPHRASE), "the passphrase never reaches the log");
  });

  it("identity init gives an agent made before identities its device key, once", async () => {
    assert.equal((await cli(dir, ...initArgs)).code, 0);
    await rm(join(dir, "device-key.json"));
    const pub = await cli(dir, "export-public", "--config", "agent.json");
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal((JSON.parse(pub.stdout) as { deviceId: unknown }).deviceId, null);
    assert.match(pub.stderr, /no device key at .*device-key\.json: create it with `identity init`/);

    const created = await cli(dir, "identity", "init", "--config", "agent.json");
    assert.equal(created.code, 0, created.stderr);
    const { deviceId } = JSON.parse(created.stdout) as { deviceId: string };
    const status = await cli(dir, "identity", "status", "--config", "agent.json");
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), {
      deviceId,
      publicKey: (JSON.parse(created.stdout) as { publicKey: string }).publicKey,
      meter: (JSON.parse(pub.stdout) as { meter: string }).meter.toLowerCase(),
      deviceKey: join(dir, "device-key.json"),
      document: null,
      recorded: { deviceId },
      gateway: null,
    });

    const again = await cli(dir, "identity", "init", "--config", "agent.json");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /device-key\.json already exists; refusing to overwrite it/);
    // A fresh init beside a device key refuses before it makes a meter key that would pair with nothing.
    await rm(join(dir, "agent.json"));
    await rm(join(dir, "meter-key.json"));
    const initAgain = await cli(dir, ...initArgs);
    assert.equal(initAgain.code, 1);
    assert.match(initAgain.stderr, /device-key\.json exists; refusing to overwrite a device key/);
    await assert.rejects(stat(join(dir, "meter-key.json")), /ENOENT/);
  });

  it("identity commands: usage and missing options are refused before anything is done", async () => {
    assert.equal((await cli(dir, ...initArgs)).code, 0);
    const unknown = await cli(dir, "identity", "enrol");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown identity command "enrol"/);
    const option = await cli(dir, "identity", "seal", "--kk", "2");
    assert.equal(option.code, 2);
    assert.match(option.stderr, /Unknown option '--kk'[^]*usage: gridmesh-agent identity/);

    const noGateway = await cli(dir, "identity", "verify", "--config", "agent.json");
    assert.equal(noGateway.code, 1);
    assert.match(noGateway.stderr, /no gateway to talk to: give --gateway <url>/);
    const noAttributes = await cli(
      dir,
      "identity",
      "provision",
      "--config",
      "agent.json",
      "--gateway",
      "http://127.0.0.1:1",
    );
    assert.equal(noAttributes.code, 1);
    assert.match(noAttributes.stderr, /--attributes is required/);
    const noSerial = await cli(
      dir,
      ...["identity", "provision", "--config", "agent.json", "--gateway", "http://127.0.0.1:1"],
      ...["--attributes", "manufacturer=Eastron,model=SDM630"],
    );
    assert.match(noSerial.stderr, /--attributes: serial missing/);
    await assert.rejects(stat(join(dir, "data", "identity")), /ENOENT/);
  });

  it("rejects an unknown command or option with the usage", async () => {
    const out = await cli(dir, "launch");
    assert.equal(out.code, 2);
    assert.match(out.stderr, /unknown command "launch"/);
    const option = await cli(dir, "run", "--confgi", "agent.json");
    assert.equal(option.code, 2);
    assert.match(option.stderr, /Unknown option '--confgi'/);
    assert.ok(!option.stderr.includes("    at "));
  });
});
