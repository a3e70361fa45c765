import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { chainInfoHeight, FabricLedger } from "./fabricLedger.js";
import { loadNetworkProfile } from "./networkProfile.js";
import { SecureIdLedgerError } from "./secureIdLedger.js";

// Any PEM trust bundle will do: no TLS handshake happens against a closed port.
const SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("FabricLedger without a network", () => {
  let dir: string;
  let profilePath: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "secureid-fabric-"));
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await writeFile(join(dir, "key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    await writeFile(
      join(dir, "cert.pem"),
      "-----BEGIN CERTIFICATE-----\nnot parsed by the client\n-----END CERTIFICATE-----\n",
    );
    const port = await closedPort();
    const org = (mspId: string) => ({
      mspId,
      peer: {
        endpoint: `127.0.0.1:${port}`,
        tlsRootCertPath: SYSTEM_CA,
        hostnameOverride: `peer0.${mspId.toLowerCase()}`,
      },
      client: { certPath: "cert.pem", keyPath: "key.pem" },
      admin: { certPath: "cert.pem", keyPath: "key.pem" },
    });
    profilePath = join(dir, "network.json");
    await writeFile(
      profilePath,
      JSON.stringify({
        version: 1,
        channel: "gridmesh",
        chaincode: "secureid",
        contract: "SecureId",
        orderer: {
          mspId: "OrdererMSP",
          endpoint: "127.0.0.1:1",
          tlsRootCertPath: SYSTEM_CA,
          hostnameOverride: "o",
        },
        organizations: { UtilityMSP: org("UtilityMSP"), Verifier1MSP: org("Verifier1MSP") },
      }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads the network scripts' profile, resolving paths against its directory", async () => {
    const profile = await loadNetworkProfile(profilePath);
    assert.equal(profile.organizations.UtilityMSP?.client.keyPath, join(dir, "key.pem"));
    await writeFile(
      join(dir, "bad.json"),
      JSON.stringify({ channel: "gridmesh", organizations: { A: { mspId: "B" } } }),
    );
    await assert.rejects(
      loadNetworkProfile(join(dir, "bad.json")),
      /chaincode: .*; contract: .*; organizations\.A\.peer/,
    );
  });

  it("reports an unreachable peer as retryable, naming the organisation it went to", async () => {
    const ledger = await FabricLedger.fromProfile(profilePath, {
      evaluateMs: 3_000,
      endorseMs: 3_000,
      reconnectMs: 300,
    });
    await assert.rejects(
      ledger.evaluate("GetVerifierOrgs", [], { asOrg: "UtilityMSP" }),
      (e: SecureIdLedgerError) =>
        e instanceof SecureIdLedgerError &&
        e.kind === "unavailable" &&
        e.retryable &&
        e.context.org === "UtilityMSP",
    );
    // A deposit goes straight to its verifier's peer.
    await assert.rejects(
      ledger.submit("DepositShard", ["x", "1"], {
        asOrg: "UtilityMSP",
        endorsingOrgs: ["Verifier1MSP"],
        transient: { deposit: new Uint8Array([1]) },
      }),
      (e: SecureIdLedgerError) =>
        e.kind === "unavailable" &&
        e.context.org === "Verifier1MSP" &&
        /^DepositShard on Verifier1MSP/.test(e.message),
    );
    await assert.rejects(
      ledger.evaluate("GetVerifierOrgs", [], { asOrg: "Verifier9MSP" }),
      /no client identity for Verifier9MSP/,
    );
    await ledger.close();
  });

  it("reads a peer's height from qscc's GetChainInfo answer (protobuf field 1, a varint)", () => {
    const hash = [0x12, 0x02, 0xaa, 0xbb]; // field 2, the current block hash, follows
    assert.equal(chainInfoHeight(new Uint8Array([0x08, 0x07, ...hash])), 7n);
    assert.equal(chainInfoHeight(new Uint8Array([0x08, 0xac, 0x02, ...hash])), 300n);
    assert.throws(() => chainInfoHeight(new Uint8Array([0x08, 0xac])), /truncated height/);
    assert.throws(() => chainInfoHeight(new Uint8Array([0x12, 0x00])), /does not start with the height/);
  });
});
