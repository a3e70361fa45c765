import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { EmbeddedLedger, SecureIdClient, type LedgerEvent } from "@gridmesh/chaincode/client";
import { meterEnrollmentTypes, mutableTypes } from "@gridmesh/contracts";
import { expect } from "chai";
import { type BaseWallet, Wallet } from "ethers";
import { network } from "hardhat";

import {
  identityStatusSchema,
  verificationPreparedSchema,
  verificationResultSchema,
} from "../../gateway/src/api/identitySchemas.js";
import { createLogger } from "../../gateway/src/common/logger.js";
import { loadGatewayConfig } from "../../gateway/src/config/config.js";
import { GatewayService } from "../../gateway/src/service/gatewayService.js";
import { deployGridMesh } from "../helpers/gridmesh.js";
import { RemoteDevice } from "./identityDevice.js";

const { ethers } = await network.create();

const UTILITY = "UtilityMSP";
const VERIFIERS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: string; issues?: { path: string; message: string }[] };
}

/**
 * Secure ID through the gateway, end to end: the real contracts on Hardhat's EVM, the gateway on
 * embedded PGlite in a temporary directory with the embedded Secure ID ledger beside it, and the
 * verifier organisations' attestors signing with Hardhat's verifier accounts. A device that holds no
 * Fabric identity is provisioned, sealed and verified over HTTP and ends up active in MeterRegistry;
 * forged or wrong signatures, revoked and unknown devices are refused and leave it inactive; the
 * chaincode event log survives restarts without losing or repeating an event.
 */
describe("gateway: Secure ID device identity over the HTTP API", function () {
  this.timeout(60_000);
  let gm: Awaited<ReturnType<typeof deployGridMesh>>;
  let dir: string;
  let gateway: GatewayService | undefined;
  let start: () => Promise<GatewayService>;

  before(async () => {
    gm = await deployGridMesh(ethers);
    dir = await mkdtemp(join(tmpdir(), "gridmesh-identity-"));
    const config = loadGatewayConfig({
      GRIDMESH_HTTP_PORT: "0",
      GRIDMESH_DATA_DIR: join(dir, "gateway-db"),
      GRIDMESH_ENERGY_MARKET: await gm.market.getAddress(),
      GRIDMESH_DELIVERY_LEDGER: await gm.ledger.getAddress(),
      GRIDMESH_METER_REGISTRY: await gm.registry.getAddress(),
      GRIDMESH_LOG_LEVEL: "silent",
    });
    const attestationKeys = new Map(VERIFIERS.map((msp, i) => [msp, gm.verifiers[i]!]));
    start = () =>
      GatewayService.start({
        config,
        logger: createLogger({ level: process.env.IDENTITY_LOG ?? "silent" }),
        provider: ethers.provider,
        signer: gm.matcher,
        attestationKeys,
        autoRun: false,
      });
    gateway = await start();
  });
  after(async () => {
    await gateway?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${gateway!.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Reply["body"] };
  }

  /** A device with its meter key enrolled in MeterRegistry under `owner`, provisioned and sealed over HTTP. */
  async function sealedDevice(owner = gm.alice): Promise<{ device: RemoteDevice; meter: BaseWallet }> {
    const device = new RemoteDevice();
    const { meter } = await gm.enrollMeter(owner, device.deviceId);
    const provisioned = await call(
      "POST",
      "/v1/identity/devices",
      device.provisionBody(meter.address.toLowerCase(), UTILITY),
    );
    expect(provisioned.status, provisioned.body.error).to.equal(200);
    const sealed = await call(
      "POST",
      `/v1/identity/devices/${device.deviceId}/seal`,
      await device.sealBody(VERIFIERS, 2),
    );
    expect(sealed.status, sealed.body.error).to.equal(200);
    return { device, meter };
  }

  async function prepare(device: RemoteDevice) {
    const prepared = await call("POST", `/v1/identity/devices/${device.deviceId}/verifications`);
    expect(prepared.status, prepared.body.error).to.equal(200);
    return verificationPreparedSchema.parse(prepared.body);
  }

  async function status(deviceId: string) {
    const reply = await call("GET", `/v1/identity/devices/${deviceId}`);
    expect(reply.status, reply.body.error).to.equal(200);
    return identityStatusSchema.parse(reply.body);
  }

  it("provisions, seals and verifies a remote device, which MeterRegistry then holds active on k attestations", async () => {
    const verifiers = await call("GET", "/v1/identity/verifiers");
    expect(verifiers.body).to.deep.include({ ownerMsp: UTILITY, ledger: "embedded" });
    expect(verifiers.body.verifiers).to.deep.equal(
      VERIFIERS.map((mspId, i) => ({
        mspId,
        attestationSigner: gm.verifiers[i]!.address.toLowerCase(),
        attestorHere: true,
      })),
    );

    const { device, meter } = await sealedDevice();
    const sealedStatus = await status(device.deviceId);
    expect(sealedStatus.seal).to.deep.include({ epoch: 1, k: 2, n: 3, verifiers: VERIFIERS });
    expect(sealedStatus.seal!.deposits.map((d) => [d.verifierMsp, d.error])).to.have.deep.members(
      VERIFIERS.map((v) => [v, null]),
    );
    expect(await gm.registry.isActive(meter.address)).to.equal(false);

    const prepared = await prepare(device);
    expect(prepared.messages.consent).to.deep.include({
      requestId: prepared.requestId,
      deviceId: device.deviceId,
      epoch: 1,
      challenge: prepared.challenge,
      requesterMsp: UTILITY,
      recipientKey: prepared.recipientKey,
    });
    const answered = await call("POST", `/v1/identity/verifications/${prepared.requestId}/responses`, {
      consentSignature: device.sign(prepared.messages.consent),
      challengeSignature: device.sign(prepared.messages.challenge),
    });
    expect(answered.status, answered.body.error).to.equal(200);
    const result = verificationResultSchema.parse(answered.body);
    expect(result.meter).to.equal(meter.address.toLowerCase());
    expect(result.activation.status).to.equal("active");
    expect(result.attestations.filter((a) => a.signature !== null)).to.have.length(3);

    expect(await gm.registry.isActive(meter.address)).to.equal(true);
    const receipt = await ethers.provider.getTransactionReceipt(result.activation.txHash!);
    const activated = receipt!.logs
      .map((log) => gm.registry.interface.parseLog(log))
      .find((e) => e?.name === "MeterActivated")!;
    expect(activated.args.verdictTxId).to.equal(result.verdictTxId);
    const [threshold] = await gm.registry.verifierPolicy();
    const signers = (activated.args.verifiers as string[]).map((a) => a.toLowerCase());
    expect(BigInt(signers.length)).to.equal(threshold);
    expect(signers).to.deep.equal([...signers].sort());
    for (const signer of signers) expect(gm.verifiers.map((v) => v.address.toLowerCase())).to.include(signer);

    await gateway!.loop.runOnce();
    const after = await status(device.deviceId);
    expect(after.lastVerification).to.deep.include({
      requestId: prepared.requestId,
      status: "verified",
      verdictTxId: result.verdictTxId,
    });
    expect(after.activationTx).to.equal(result.activation.txHash);
    expect(after.registry).to.deep.equal({
      meter: meter.address.toLowerCase(),
      owner: gm.alice.address.toLowerCase(),
      status: "active",
    });

    // The same signatures a second time: a verification takes them once.
    const again = await call("POST", `/v1/identity/verifications/${prepared.requestId}/responses`, {
      consentSignature: device.sign(prepared.messages.consent),
      challengeSignature: device.sign(prepared.messages.challenge),
    });
    expect(again.status).to.equal(409);
    expect(again.body.error).to.match(/is verified .*once/);
  });

  it("refuses forged device signatures, records the refusal and leaves the meter inactive", async () => {
    const impostor = new RemoteDevice();
    const device = new RemoteDevice();
    const forged = device.provisionBody(`0x${"ab".repeat(20)}`, UTILITY, impostor);
    const provisioned = await call("POST", "/v1/identity/devices", forged);
    expect(provisioned.status).to.equal(422);
    expect(provisioned.body.error).to.match(/SecureIdBadSignature/);
    expect((await call("GET", `/v1/identity/devices/${device.deviceId}`)).status).to.equal(404);

    const { device: victim, meter } = await sealedDevice(gm.bob);
    const prepared = await prepare(victim);
    const refused = await call("POST", `/v1/identity/verifications/${prepared.requestId}/responses`, {
      consentSignature: impostor.sign(prepared.messages.consent),
      challengeSignature: impostor.sign(prepared.messages.challenge),
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.error).to.match(/refused: .*SecureIdBadSignature/);
    const after = await status(victim.deviceId);
    expect(after.lastVerification).to.deep.include({
      requestId: prepared.requestId,
      status: "refused",
      verdictTxId: null,
    });
    expect(await gm.registry.isActive(meter.address)).to.equal(false);
  });

  it("records a failed verdict for a wrong challenge signature and activates nothing", async () => {
    const { device, meter } = await sealedDevice(gm.carol);
    const prepared = await prepare(device);
    const otherChallenge = { ...prepared.messages.challenge, challenge: "00".repeat(32) };
    const failed = await call("POST", `/v1/identity/verifications/${prepared.requestId}/responses`, {
      consentSignature: device.sign(prepared.messages.consent),
      challengeSignature: device.sign(otherChallenge),
    });
    expect(failed.status).to.equal(422);
    expect(failed.body.error).to.match(
      /failed \(verdict 0x[0-9a-f]{64} is on the ledger\): .*SecureIdBadChallengeResponse/,
    );

    const after = await status(device.deviceId);
    expect(after.lastVerification).to.deep.include({ status: "failed", attestations: [], activation: null });
    // The verdict is on the ledger, failed, and no verifier will attest it.
    const verdict = await new SecureIdClient(ledgerOf(gateway!), "Verifier1MSP").getVerdict(
      prepared.requestId,
    );
    expect(verdict).to.deep.include({ ok: false, verdictTxId: after.lastVerification!.verdictTxId });
    const retry = await call("POST", `/v1/identity/verifications/${prepared.requestId}/activation`);
    expect(retry.status).to.equal(409);
    expect(await gm.registry.isActive(meter.address)).to.equal(false);
  });

  it("reports an activation the registry refuses, and activates on retry once the meter is enrolled", async () => {
    const device = new RemoteDevice();
    const meter = Wallet.createRandom();
    const body = device.provisionBody(meter.address.toLowerCase(), UTILITY);
    expect((await call("POST", "/v1/identity/devices", body)).status).to.equal(200);
    const sealBody = await device.sealBody(VERIFIERS, 3);
    expect((await call("POST", `/v1/identity/devices/${device.deviceId}/seal`, sealBody)).status).to.equal(
      200,
    );
    const prepared = await prepare(device);
    const answered = await call("POST", `/v1/identity/verifications/${prepared.requestId}/responses`, {
      consentSignature: device.sign(prepared.messages.consent),
      challengeSignature: device.sign(prepared.messages.challenge),
    });
    expect(answered.status).to.equal(409);
    expect(answered.body.error).to.match(
      /is verified \(verdict 0x[0-9a-f]{64}\) but meter .* MeterRegistryNotEnrolled/,
    );
    expect((await status(device.deviceId)).lastVerification).to.deep.include({ status: "verified" });

    // The owner enrols the meter (with the meter key's consent); the same verdict then activates it.
    const consent = await meter.signTypedData(gm.registryDomain, mutableTypes(meterEnrollmentTypes), {
      meter: meter.address,
      owner: gm.eve.address,
      deviceId: device.deviceId,
    });
    await gm.registry.connect(gm.eve).enroll(meter.address, device.deviceId, consent);
    const retried = await call("POST", `/v1/identity/verifications/${prepared.requestId}/activation`);
    expect(retried.status, retried.body.error).to.equal(200);
    const result = verificationResultSchema.parse(retried.body);
    expect(result.activation.status).to.equal("active");
    expect(await gm.registry.isActive(meter.address)).to.equal(true);
    const again = await call("POST", `/v1/identity/verifications/${prepared.requestId}/activation`);
    expect(again.status).to.equal(409);
    expect(again.body.error).to.match(/already activated/);
  });

  it("refuses to verify a revoked device or an unknown one", async () => {
    const { device, meter } = await sealedDevice(gm.dave);
    const revoked = await call(
      "POST",
      `/v1/identity/devices/${device.deviceId}/revocation`,
      device.revokeBody("key leaked"),
    );
    expect(revoked.status, revoked.body.error).to.equal(200);
    const refused = await call("POST", `/v1/identity/devices/${device.deviceId}/verifications`);
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.match(/was revoked .*key leaked/);
    expect((await status(device.deviceId)).status).to.equal("revoked");
    expect(await gm.registry.isActive(meter.address)).to.equal(false);

    const unknown = new RemoteDevice();
    for (const [method, path, body] of [
      ["POST", `/v1/identity/devices/${unknown.deviceId}/verifications`, undefined],
      ["GET", `/v1/identity/devices/${unknown.deviceId}`, undefined],
      [
        "POST",
        `/v1/identity/verifications/${"ab".repeat(16)}/responses`,
        { consentSignature: "00".repeat(64), challengeSignature: "00".repeat(64) },
      ],
    ] as const) {
      const reply = await call(method, path, body);
      expect(reply.status, `${method} ${path}`).to.equal(404);
      expect(reply.body.error).to.match(/SecureIdDeviceNotFound|no verification/);
    }
  });

  it("refuses bad input with 400 naming the field, and writes nothing", async () => {
    const device = new RemoteDevice();
    const meter = `0x${"cd".repeat(20)}`;
    const body = device.provisionBody(meter, UTILITY);
    await gateway!.identity.eventLog.waitForBlock(ledgerHeight());
    const eventsBefore = await eventCount();
    const badMeter = await call("POST", "/v1/identity/devices", {
      ...body,
      meter: meter.toUpperCase().replace("0X", "0x"),
    });
    expect(badMeter.status).to.equal(400);
    expect(badMeter.body.issues!.map((i) => i.path)).to.deep.equal(["body.meter"]);
    expect(
      (await call("POST", "/v1/identity/devices", { ...body, extra: 1 })).body.issues!.map((i) => i.path),
    ).to.deep.equal(["body.extra"]);

    expect((await call("POST", "/v1/identity/devices", body)).status).to.equal(200);
    const seal = await device.sealBody(VERIFIERS, 2);
    const tampered = {
      ...seal,
      shards: seal.shards.map((s, i) => (i === 1 ? { ...s, shard: `ff${s.shard.slice(2)}` } : s)),
    };
    const refused = await call("POST", `/v1/identity/devices/${device.deviceId}/seal`, tampered);
    expect(refused.status).to.equal(400);
    expect(refused.body.issues).to.deep.equal([
      { path: "body.shards.1", message: "does not match commitments[1]" },
    ]);
    const short = await call("POST", `/v1/identity/devices/${device.deviceId}/seal`, {
      ...seal,
      shards: seal.shards.slice(0, 2),
    });
    expect(short.body.issues!.map((i) => i.path)).to.deep.equal(["body.shards"]);
    expect((await status(device.deviceId)).seal).to.equal(null);
    // Only the good provisioning reached the ledger.
    await gateway!.loop.runOnce();
    await gateway!.identity.eventLog.waitForBlock(ledgerHeight());
    expect(await eventCount()).to.equal(eventsBefore + 1);
  });

  it("keeps every chaincode event exactly once, in ledger order, across restarts", async () => {
    await gateway!.loop.runOnce();
    // Stopped while events are still being appended: what was not committed with its checkpoint comes again.
    await Promise.all(
      [0, 1, 2].map(async () => {
        const device = new RemoteDevice();
        await call(
          "POST",
          "/v1/identity/devices",
          device.provisionBody(ethers.Wallet.createRandom().address.toLowerCase(), UTILITY),
        );
      }),
    );
    await gateway!.stop();
    gateway = undefined;

    // While the gateway is down, the ledger moves on (another client of the same embedded ledger).
    const ledger = new EmbeddedLedger({ orgs: [UTILITY, ...VERIFIERS], path: join(dir, "secure-id.sqlite") });
    const offline = new RemoteDevice();
    await offline.identity.provision(new SecureIdClient(ledger, UTILITY), {
      meter: ethers.Wallet.createRandom().address.toLowerCase(),
      attributes: { manufacturer: "Eastron", model: "SDM630", serial: "OFFLINE-1" },
    });
    const all = await eventsOf(ledger);
    await ledger.close();

    gateway = await start();
    await gateway.loop.runOnce();
    await gateway.identity.eventLog.waitForBlock(all.at(-1)!.blockNumber);
    const { rows } = await gateway.db.query<{
      transaction_id: string;
      block_number: bigint;
      event_name: string;
    }>("SELECT transaction_id, block_number, event_name FROM fabric_events ORDER BY position");
    expect(rows.map((r) => [r.block_number, r.transaction_id, r.event_name])).to.deep.equal(
      all.map((e) => [e.blockNumber, e.txId, e.name]),
    );
    const page = await call("GET", `/v1/identity/events?deviceId=${offline.deviceId}`);
    expect((page.body.items as { name: string }[]).map((e) => e.name)).to.deep.equal(["IdentityProvisioned"]);
  });

  async function eventCount(): Promise<number> {
    const { rows } = await gateway!.db.query<{ n: bigint }>(
      "SELECT count(*)::bigint AS n FROM fabric_events",
    );
    return Number(rows[0]!.n);
  }

  function ledgerHeight(): bigint {
    return ledgerOf(gateway!).height();
  }
});

/** The gateway's own Secure ID ledger, to read it as a verifier organisation would. */
function ledgerOf(gateway: GatewayService): EmbeddedLedger {
  return gateway.identity.ledger as EmbeddedLedger;
}

/** Every event of `ledger`, from the first block to its height. */
async function eventsOf(ledger: EmbeddedLedger): Promise<LedgerEvent[]> {
  // The embedded ledger numbers blocks from 1; its height is the last one's number.
  const last = ledger.height();
  const events = await ledger.events({ asOrg: UTILITY, startBlock: 0n });
  const all: LedgerEvent[] = [];
  for await (const event of events) {
    all.push(event);
    if (event.blockNumber >= last) break;
  }
  events.close();
  return all;
}
