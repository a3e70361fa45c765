import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { expect } from "chai";
import { network } from "hardhat";

import { createLogger } from "../../gateway/src/common/logger.js";
import { loadGatewayConfig } from "../../gateway/src/config/config.js";
import { GatewayService } from "../../gateway/src/service/gatewayService.js";
import { loadDeviceKey } from "../../meter-agent/src/identity/deviceKeyFile.js";
import { deployGridMesh } from "../helpers/gridmesh.js";

const { ethers } = await network.create();

const AGENT = fileURLToPath(new URL("../../meter-agent/bin/gridmesh-agent.mjs", import.meta.url));
const PASSPHRASE = "the meter agent's identity test passphrase";
const VERIFIERS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A meter agent gets its Secure ID identity and its meter activated, entirely through its own CLI:
 * the real `gridmesh-agent` as child processes, the real gateway (embedded PGlite and embedded Secure ID
 * ledger, verifier attestors with Hardhat's verifier accounts) and the real contracts on Hardhat. The
 * owner enrols the meter with the consent the agent's meter key signs; the agent provisions, seals and
 * verifies its device key over the gateway's HTTP API, and MeterRegistry ends up holding the meter active
 * under the verdict the agent reported. The device key's seed never appears in anything the agent prints.
 */
describe("meter agent: device identity through the gateway", function () {
  this.timeout(90_000);
  let dir: string;
  let gateway: GatewayService | undefined;
  const printed: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-agent-identity-"));
  });
  after(async () => {
    await gateway?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The agent's CLI in the agent's directory; resolves with its exit code and output. */
  async function agent(...args: string[]): Promise<Run> {
    let run: Run;
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [AGENT, ...args], { cwd: dir });
      run = { code: 0, stdout, stderr };
    } catch (e) {
      const { code, stdout, stderr } = e as Run;
      run = { code, stdout, stderr };
    }
    printed.push(run.stdout, run.stderr);
    return run;
  }

  async function ok<T>(...args: string[]): Promise<T> {
    const run = await agent(...args, "--config", "agent.json");
    expect(run.code, `${args.join(" ")}: ${run.stderr}`).to.equal(0);
    return JSON.parse(run.stdout) as T;
  }

  it("init → enrolment consent → provision → seal → verify: the meter is active in MeterRegistry", async () => {
    const gm = await deployGridMesh(ethers);
    const registry = await gm.registry.getAddress();
    const config = loadGatewayConfig({
      GRIDMESH_HTTP_PORT: "0",
      GRIDMESH_DATA_DIR: join(dir, "gateway", "db"),
      GRIDMESH_ENERGY_MARKET: await gm.market.getAddress(),
      GRIDMESH_DELIVERY_LEDGER: await gm.ledger.getAddress(),
      GRIDMESH_METER_REGISTRY: registry,
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

    // The agent's readings go to this gateway, so its identity commands find it without --gateway.
    await writeFile(join(dir, "pass"), `${PASSPHRASE}\n`, { mode: 0o600 });
    const init = await agent(
      ...["init", "--config", "agent.json", "--passphrase-file", "pass", "--scrypt-n", "1024"],
      ...["--chain-id", gm.chainId.toString(), "--ledger", await gm.ledger.getAddress(), "--interval", "60"],
      ...["--simulated", "--gateway", `${gateway.url}/v1/readings`],
    );
    expect(init.code, init.stderr).to.equal(0);
    const { meter, deviceId } = JSON.parse(init.stdout) as { meter: string; deviceId: string };

    // The owner enrols the meter with the meter key's consent, which only the agent can sign.
    const consent = await ok<{ meter: string; deviceId: string; signature: string }>(
      ...["identity", "enrollment", "--owner", gm.alice.address, "--registry", registry],
    );
    expect(consent).to.deep.include({ meter, deviceId });
    await gm.registry.connect(gm.alice).enroll(meter, deviceId, consent.signature);

    const provisioned = await ok<{ deviceId: string; meter: string; ownerMsp: string }>(
      ...["identity", "provision", "--owner-msp", "UtilityMSP"],
      ...["--attributes", "manufacturer=Eastron,model=SDM630-Modbus,serial=SDM-0042"],
    );
    expect(provisioned).to.deep.include({ deviceId, meter: meter.toLowerCase(), ownerMsp: "UtilityMSP" });
    expect(JSON.parse(await readFile(join(dir, "data", "identity", "document.json"), "utf8"))).to.deep.equal({
      deviceId,
      publicKey: (await loadDeviceKey(join(dir, "device-key.json"), PASSPHRASE)).publicKey,
      meter: meter.toLowerCase(),
      ownerMsp: "UtilityMSP",
      attributes: { manufacturer: "Eastron", model: "SDM630-Modbus", serial: "SDM-0042" },
    });

    // Too early: the gateway's reason reaches the operator, and nothing was signed for it.
    const early = await agent("identity", "verify", "--config", "agent.json");
    expect(early.code).to.equal(1);
    expect(early.stderr).to.match(/answered 409: device 0x[0-9a-f]{64} has no Keymaker seal yet/);

    const sealed = await ok<{
      epoch: number;
      k: number;
      verifiers: string[];
      deposits: { error: unknown }[];
    }>(...["identity", "seal", "--k", "2"]);
    expect(sealed).to.deep.include({ epoch: 1, k: 2, verifiers: VERIFIERS });
    expect(sealed.deposits.map((d) => d.error)).to.deep.equal([null, null, null]);
    expect((await stat(join(dir, "data", "identity", "device-shard-epoch-1.json"))).mode & 0o777).to.equal(
      0o600,
    );
    expect(await gm.registry.isActive(meter)).to.equal(false);

    const verified = await ok<{
      verdict: string;
      verdictTxId: string;
      meter: string;
      attestations: { signature: string | null }[];
      activation: { status: string; txHash: string };
    }>("identity", "verify");
    expect(verified).to.deep.include({ verdict: "verified", meter: meter.toLowerCase() });
    expect(verified.activation.status).to.equal("active");
    expect(verified.attestations.filter((a) => a.signature !== null)).to.have.length(3);

    expect(await gm.registry.isActive(meter)).to.equal(true);
    const receipt = await ethers.provider.getTransactionReceipt(verified.activation.txHash);
    const activated = receipt!.logs
      .map((log) => gm.registry.interface.parseLog(log))
      .find((e) => e?.name === "MeterActivated");
    expect(activated?.args.meter).to.equal(meter);
    expect(activated?.args.verdictTxId).to.equal(verified.verdictTxId);

    const status = await ok<{
      recorded: { lastVerification: { outcome: string; verdictTxId: string }; seal: { epoch: number } };
      gateway: { identity: { status: string; lastVerification: { status: string } } };
    }>("identity", "status");
    expect(status.recorded.lastVerification).to.deep.include({
      outcome: "verified",
      verdictTxId: verified.verdictTxId,
    });
    expect(status.recorded.seal.epoch).to.equal(1);
    expect(status.gateway.identity.lastVerification.status).to.equal("verified");

    // Revocation is final: the gateway will not start another verification of this device.
    const revoked = await ok<{ status: string }>("identity", "revoke", "--reason", "meter replaced");
    expect(revoked.status).to.equal("revoked");
    const after = await agent("identity", "verify", "--config", "agent.json");
    expect(after.code).to.equal(1);
    expect(after.stderr).to.match(/was revoked .*meter replaced/);

    const seed = Buffer.from(
      (await loadDeviceKey(join(dir, "device-key.json"), PASSPHRASE)).exportPrivateKey(),
    ).toString("hex");
    for (const text of printed) {
      expect(text.includes(seed)).to.equal(false, "the device key's seed was printed");
      expect(text.includes(PASSPHRASE)).to.equal(false, "the passphrase was printed");
    }
  });
});
