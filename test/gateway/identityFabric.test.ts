import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { network } from "hardhat";

import { startTestNetwork, type TestNetwork } from "../../chaincode/integration/testNetwork.js";
import {
  verificationPreparedSchema,
  verificationResultSchema,
} from "../../gateway/src/api/identitySchemas.js";
import { createLogger } from "../../gateway/src/common/logger.js";
import { loadGatewayConfig } from "../../gateway/src/config/config.js";
import { GatewayService } from "../../gateway/src/service/gatewayService.js";
import { deployGridMesh } from "../helpers/gridmesh.js";
import { RemoteDevice } from "./identityDevice.js";

const { ethers } = await network.create();

const VERIFIERS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];

/**
 * The gateway's identity service on the REAL Fabric network (a test network of its own, as
 * `npm start -- --fabric` uses): a remote device is provisioned, sealed (each shard to its verifier's
 * peer) and verified over the gateway's HTTP API, and MeterRegistry on Hardhat's EVM activates its
 * meter on the verifier organisations' attestations; the chaincode events reach the gateway's log.
 */
describe("gateway: Secure ID on a real Fabric network", function () {
  this.timeout(300_000);
  let fabric: TestNetwork | undefined;
  let gateway: GatewayService | undefined;
  let dir: string;
  after(async () => {
    await gateway?.stop();
    await fabric?.purge();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("provisions, seals and verifies a device through the gateway; its meter becomes active", async function () {
    const gm = await deployGridMesh(ethers);
    fabric = await startTestNetwork();
    dir = await mkdtemp(join(tmpdir(), "gridmesh-identity-fabric-"));
    const config = loadGatewayConfig({
      GRIDMESH_HTTP_PORT: "0",
      GRIDMESH_DATA_DIR: join(dir, "gateway-db"),
      GRIDMESH_ENERGY_MARKET: await gm.market.getAddress(),
      GRIDMESH_DELIVERY_LEDGER: await gm.ledger.getAddress(),
      GRIDMESH_METER_REGISTRY: await gm.registry.getAddress(),
      GRIDMESH_SECURE_ID: "fabric",
      GRIDMESH_FABRIC_PROFILE: fabric.profilePath,
      GRIDMESH_LOG_LEVEL: "silent",
    });
    gateway = await GatewayService.start({
      config,
      logger: createLogger({ level: "silent" }),
      provider: ethers.provider,
      signer: gm.matcher,
      attestationKeys: new Map(VERIFIERS.map((msp, i) => [msp, gm.verifiers[i]!])),
      autoRun: false,
    });
    const call = async (path: string, body?: unknown) => {
      const res = await fetch(`${gateway!.url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...(body === undefined
          ? {}
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
    };

    const verifiers = await call("/v1/identity/verifiers");
    expect(verifiers.body).to.deep.include({ ownerMsp: "UtilityMSP", ledger: "fabric" });

    const device = new RemoteDevice();
    const { meter } = await gm.enrollMeter(gm.alice, device.deviceId);
    const provisioned = await call(
      "/v1/identity/devices",
      device.provisionBody(meter.address.toLowerCase(), "UtilityMSP"),
    );
    expect(provisioned.status, provisioned.body.error).to.equal(200);
    const sealed = await call(
      `/v1/identity/devices/${device.deviceId}/seal`,
      await device.sealBody(VERIFIERS, 2),
    );
    expect(sealed.status, sealed.body.error).to.equal(200);

    const prepared = verificationPreparedSchema.parse(
      (await call(`/v1/identity/devices/${device.deviceId}/verifications`, {})).body,
    );
    const answered = await call(`/v1/identity/verifications/${prepared.requestId}/responses`, {
      consentSignature: device.sign(prepared.messages.consent),
      challengeSignature: device.sign(prepared.messages.challenge),
    });
    expect(answered.status, answered.body.error).to.equal(200);
    const result = verificationResultSchema.parse(answered.body);
    expect(result.activation.status).to.equal("active");
    expect(result.verdictTxId).to.match(/^0x[0-9a-f]{64}$/);
    expect(await gm.registry.isActive(meter.address)).to.equal(true);

    // The chaincode's events for this device, from Fabric's event stream into the gateway's log.
    await gateway.loop.runOnce();
    const deadline = Date.now() + 20_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      const { rows } = await gateway.db.query<{ event_name: string }>(
        "SELECT event_name FROM fabric_events ORDER BY block_number",
      );
      names = rows.map((r) => r.event_name);
      if (names.includes("VerdictRecorded")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const name of ["IdentityProvisioned", "IdentitySealed", "ShardDeposited", "VerdictRecorded"])
      expect(names, names.join(", ")).to.include(name);
  });
});
