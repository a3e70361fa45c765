import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { encryptKeystoreJson, Wallet } from "ethers";

import { loadVerifierKeys } from "./verifierKeystores.js";

void describe("loadVerifierKeys", () => {
  let dir: string;
  const wallet = Wallet.createRandom();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-verifier-keys-"));
    // A cheap scrypt cost: the format is what is under test, not the key derivation's strength.
    const json = await encryptKeystoreJson(
      { address: wallet.address, privateKey: wallet.privateKey },
      "verifier one",
      { scrypt: { N: 1 << 10 } },
    );
    await writeFile(join(dir, "v1.json"), json);
    await writeFile(join(dir, "v1.pass"), "verifier one\n");
    await writeFile(join(dir, "wrong.pass"), "verifier two\n");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it("decrypts each verifier's keystore with its passphrase file", async () => {
    const keys = await loadVerifierKeys([
      { mspId: "Verifier1MSP", keystoreFile: join(dir, "v1.json"), passphraseFile: join(dir, "v1.pass") },
    ]);
    assert.deepEqual([...keys.keys()], ["Verifier1MSP"]);
    assert.equal(await keys.get("Verifier1MSP")!.getAddress(), wallet.address);
  });

  void it("names the organisation and the file it cannot open", async () => {
    await assert.rejects(
      loadVerifierKeys([
        {
          mspId: "Verifier2MSP",
          keystoreFile: join(dir, "v1.json"),
          passphraseFile: join(dir, "wrong.pass"),
        },
      ]),
      /cannot decrypt .*v1\.json \(attestation key of Verifier2MSP\): wrong passphrase/,
    );
    await assert.rejects(
      loadVerifierKeys([
        {
          mspId: "Verifier3MSP",
          keystoreFile: join(dir, "absent.json"),
          passphraseFile: join(dir, "v1.pass"),
        },
      ]),
      /cannot read the attestation key of Verifier3MSP: .*absent\.json/,
    );
  });
});
