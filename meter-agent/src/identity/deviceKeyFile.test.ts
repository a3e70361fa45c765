import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { inspect } from "node:util";

import { revokeMessage } from "@gridmesh/chaincode/client";

import { createAgentLogger } from "../common/logger.js";
import { tempDir } from "../testing/tempDir.js";
import { createDeviceKey, loadDeviceKey, readDevicePublicKey } from "./deviceKeyFile.js";
import { readDeviceShard, writeDeviceShard } from "./deviceShardFile.js";

const FAST = { scryptN: 1024 };
const PASS = "correct horse battery staple";

const seedHex = (device: { exportPrivateKey(): Uint8Array }) =>
  Buffer.from(device.exportPrivateKey()).toString("hex");

describe("device key file", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("keeps the ed25519 seed encrypted; the passphrase opens the same key, its id readable without it", async () => {
    const path = join(dir, "device-key.json");
    const created = await createDeviceKey(path, PASS, FAST);
    const text = await readFile(path, "utf8");
    assert.ok(!text.includes(seedHex(created)), "the seed is not stored in clear");
    assert.ok(!text.includes(PASS));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readDevicePublicKey(path), {
      deviceId: created.deviceId,
      publicKey: created.publicKey,
    });

    const loaded = await loadDeviceKey(path, PASS);
    assert.equal(loaded.deviceId, created.deviceId);
    const message = revokeMessage({ deviceId: created.deviceId, reason: "test" });
    assert.equal(loaded.sign(message), created.sign(message), "the same ed25519 key signs the same bytes");
  });

  it("refuses a wrong passphrase, naming neither passphrase", async () => {
    const path = join(dir, "device-key.json");
    await createDeviceKey(path, PASS, FAST);
    await assert.rejects(
      loadDeviceKey(path, "not the passphrase"),
      (e: Error) =>
        /wrong passphrase for .*device-key\.json/.test(e.message) &&
        !e.message.includes("not the passphrase") &&
        !e.message.includes(PASS),
    );
  });

  it("refuses a file whose clear device id was altered, and one of another kind", async () => {
    const path = join(dir, "device-key.json");
    const created = await createDeviceKey(path, PASS, FAST);
    const other = await createDeviceKey(join(dir, "other.json"), PASS, FAST);
    const envelope = JSON.parse(await readFile(path, "utf8")) as { clear: Record<string, string> };
    envelope.clear.deviceId = other.deviceId;
    await writeFile(join(dir, "altered.json"), JSON.stringify(envelope));
    await assert.rejects(
      loadDeviceKey(join(dir, "altered.json"), PASS),
      /wrong passphrase .* or the file was altered/,
    );
    assert.notEqual(created.deviceId, other.deviceId);

    await writeDeviceShard(join(dir, "shard.json"), {
      deviceId: created.deviceId,
      epoch: 1,
      shard: { index: 3, shard: "ab".repeat(33), salt: "cd".repeat(32), commitment: "ef".repeat(32) },
      passphrase: PASS,
      ...FAST,
    });
    await assert.rejects(
      loadDeviceKey(join(dir, "shard.json"), PASS),
      /holds a device-shard, not a device-key/,
    );
  });

  it("never overwrites a device key", async () => {
    const path = join(dir, "device-key.json");
    const first = await createDeviceKey(path, PASS, FAST);
    const before = await readFile(path, "utf8");
    await assert.rejects(createDeviceKey(path, PASS, FAST), /already exists; refusing to overwrite/);
    assert.equal(await readFile(path, "utf8"), before);
    assert.equal((await loadDeviceKey(path, PASS)).deviceId, first.deviceId);
  });

  it("never lets the seed reach a log line, an inspection or an error", async () => {
    const path = join(dir, "device-key.json");
    const device = await createDeviceKey(path, PASS, FAST);
    const seed = seedHex(device);
    let logged = "";
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const log = createAgentLogger("trace", sink);
    log.info({ device, loaded: await loadDeviceKey(path, PASS) }, "device key loaded");
    const refused = await loadDeviceKey(path, "wrong passphrase!").then(
      () => assert.fail("a wrong passphrase opened the device key"),
      (e: Error) => e,
    );
    log.error({ err: refused }, "device key refused");
    assert.match(logged, /device key loaded/);
    assert.match(logged, new RegExp(device.deviceId));
    for (const text of [logged, inspect(device, { depth: 10 }), JSON.stringify(device), refused.message]) {
      assert.ok(!text.includes(seed), `the seed leaked into: ${text.slice(0, 200)}`);
      assert.ok(!text.includes(Buffer.from(seed, "hex").toString("base64")));
    }
  });

  it("keeps the device's Keymaker shard sealed and never overwrites it", async () => {
    const share = "22".repeat(33);
    const shard = { index: 3, shard: share, salt: "11".repeat(32), commitment: "33".repeat(32) };
    const path = join(dir, "shard.json");
    await writeDeviceShard(path, {
      deviceId: `0x${"aa".repeat(32)}`,
      epoch: 2,
      shard,
      passphrase: PASS,
      ...FAST,
    });
    assert.ok(!(await readFile(path, "utf8")).includes(share));
    assert.deepEqual(await readDeviceShard(path, PASS), {
      deviceId: `0x${"aa".repeat(32)}`,
      epoch: 2,
      shard,
    });
    await assert.rejects(readDeviceShard(path, "wrong passphrase!"), /wrong passphrase/);
    await assert.rejects(
      writeDeviceShard(path, {
        deviceId: `0x${"aa".repeat(32)}`,
        epoch: 2,
        shard,
        passphrase: PASS,
        ...FAST,
      }),
      /refusing to overwrite/,
    );
  });
});
