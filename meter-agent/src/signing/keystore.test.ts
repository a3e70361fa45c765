import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

import type { Address } from "@gridmesh/contracts";

import { tempDir } from "../testing/tempDir.js";
import { createKeystore, keystoreAddress, loadKeystore, readPassphrase } from "./keystore.js";
import { ReadingSigner, recoverReadingSigner } from "./readingSigner.js";

const FAST = { scryptN: 1024 };
const PASS = "correct horse battery staple";

describe("keystore", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("creates an encrypted key that only the passphrase opens", async () => {
    const path = join(dir, "meter.json");
    const created = await createKeystore(path, PASS, FAST);
    const text = await readFile(path, "utf8");
    assert.ok(!text.includes(created.privateKey.slice(2)), "the private key is not stored in clear");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await keystoreAddress(path), created.address.toLowerCase());
    assert.equal((await loadKeystore(path, PASS)).address, created.address);
    await assert.rejects(loadKeystore(path, "wrong passphrase!"), /wrong passphrase for the keystore/);
  });

  it("refuses to overwrite a meter's key", async () => {
    const path = join(dir, "meter.json");
    await createKeystore(path, PASS, FAST);
    await assert.rejects(createKeystore(path, PASS, FAST), /refusing to overwrite/);
  });

  it("tells a damaged keystore from a wrong passphrase", async () => {
    const path = join(dir, "meter.json");
    await writeFile(path, "{not json");
    await assert.rejects(loadKeystore(path, PASS), /not valid JSON/);
    await writeFile(path, JSON.stringify({ version: 3, crypto: {} }));
    await assert.rejects(loadKeystore(path, PASS), /damaged or not a v3 keystore/);
  });

  it("reads the passphrase from a file or the environment, never echoing it", async () => {
    const file = join(dir, "pass");
    await writeFile(file, `${PASS}\n`);
    assert.equal(await readPassphrase({ file }), PASS);
    process.env.GRIDMESH_TEST_PASSPHRASE = PASS;
    assert.equal(await readPassphrase({ env: "GRIDMESH_TEST_PASSPHRASE" }), PASS);
    delete process.env.GRIDMESH_TEST_PASSPHRASE;
    await assert.rejects(
      readPassphrase({ env: "GRIDMESH_TEST_PASSPHRASE" }),
      /GRIDMESH_TEST_PASSPHRASE holding the passphrase is not set/,
    );
    await writeFile(file, "short");
    await assert.rejects(
      readPassphrase({ file }),
      (e: Error) => /at least 8/.test(e.message) && !e.message.includes("short"),
    );
    await assert.rejects(readPassphrase({ file: join(dir, "missing") }), /ENOENT/);
  });

  it("signs readings that recover to the meter, and only for this ledger and chain", async () => {
    const wallet = await createKeystore(join(dir, "meter.json"), PASS, FAST);
    const meter = wallet.address as Address;
    const domain = { chainId: 31337n, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };
    const signer = new ReadingSigner(wallet, meter, domain);
    const reading = {
      meter,
      interval: 7n,
      sequence: 1n,
      importStartWh: 100n,
      importEndWh: 150n,
      exportStartWh: 20n,
      exportEndWh: 20n,
      timestamp: 480n,
    };
    const signed = await signer.sign(reading);
    assert.equal(recoverReadingSigner(signed, domain), meter);
    assert.notEqual(recoverReadingSigner(signed, { ...domain, chainId: 1n }), meter);
    assert.notEqual(
      recoverReadingSigner({ ...signed, reading: { ...reading, importEndWh: 151n } }, domain),
      meter,
    );
    await assert.rejects(
      signer.sign({ ...reading, meter: "0x00000000000000000000000000000000000000b2" }),
      /refusing to sign/,
    );
  });
});
