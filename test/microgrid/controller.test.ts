import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { gunzipSync } from "node:zlib";

import { signedReadingToJson, type Clock } from "@gridmesh/contracts";
import { expect } from "chai";
import { encryptKeystoreJson, Wallet } from "ethers";
import { pino } from "pino";

import {
  CONTROLLER_API,
  HOUR_MS,
  hourOf,
  hourStartMs,
  type ControllerStatus,
  type UsageHourResponse,
  type UsageHoursResponse,
} from "../../gateway/src/microgrid/controllerApi.js";
import { eventually } from "../../gateway/src/common/testing/eventually.js";
import { parseControllerConfig } from "../../gateway/src/microgrid/controllerConfig.js";
import { MicrogridController } from "../../gateway/src/microgrid/microgridController.js";
import { MeterAgentHarness } from "./meterAgentHarness.js";
import { simClockStartingAt } from "./support/simClock.js";

/** Simulated time runs 600 times the wall clock: a 60 s data interval passes in 100 ms. */
const SPEED = 600;
const TOKEN = "utility-token-for-the-controller-test";
const TOKEN_SHA256 = createHash("sha256").update(TOKEN).digest("hex");

/** A scaled clock that reads `simStartMs` now. */
const clockStartingAt = (simStartMs: number): Clock => simClockStartingAt(simStartMs, SPEED);

/** Every reading in the controller's usage files, live and backup, as stored. */
async function usageFileReadings(dataDir: string): Promise<{ file: string; readings: unknown[] }[]> {
  const dir = join(dataDir, "usage");
  const out: { file: string; readings: unknown[] }[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const raw = await readFile(join(dir, file));
    const text = file.endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    out.push({
      file,
      readings: text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as unknown),
    });
  }
  return out;
}

/** The readings' sequences per meter, in file order, with any repeat kept. */
function sequencesByMeter(files: { readings: unknown[] }[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const { readings } of files) {
    for (const r of readings as { reading: { meter: string; sequence: string } }[]) {
      const meter = r.reading.meter.toLowerCase();
      seen.set(meter, [...(seen.get(meter) ?? []), Number(r.reading.sequence)]);
    }
  }
  return seen;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** The central utility's side: a health URL whose answer the test sets. */
class UtilityHealth {
  status = 200;
  readonly #server: Server = createServer((_req, res) => res.writeHead(this.status).end());

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/health`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }
}

describe("microgrid controller with real meter agents", function () {
  this.timeout(120_000);
  const controllerKey = Wallet.createRandom();
  const health = new UtilityHealth();
  let dir: string;
  let healthUrl: string;
  let clock: Clock;
  let low: MeterAgentHarness;
  let high: MeterAgentHarness;
  let plain: MeterAgentHarness;
  let agents: MeterAgentHarness[];
  let controller: MicrogridController;
  /** The hour the first readings were received in. */
  let firstHour: string;

  function configFor(dataDir: string) {
    return parseControllerConfig(
      {
        controllerId: "residential-1",
        dataDir,
        http: { port: 0 },
        utility: { healthUrl, tokenSha256: TOKEN_SHA256, checkEveryMs: 30_000, offlineAfterMs: 120_000 },
        key: { keystore: "unused.json", passphraseFile: "unused" },
        chainId: 31337,
        meters: agents.map((a) => ({ meter: a.meter, url: a.url, battery: a.battery !== undefined })),
        dataIntervalSeconds: 60,
        polling: { retryDelayMs: 5_000, requestTimeoutMs: 2_000 },
      },
      dir,
    );
  }

  async function startController(dataDir = "controller"): Promise<MicrogridController> {
    const c = new MicrogridController({
      config: configFor(dataDir),
      signer: controllerKey,
      clock,
      logger: pino({ level: "silent" }),
    });
    await c.start();
    return c;
  }

  async function utility<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(controller.url + path, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  const command = (body: unknown) =>
    utility<{ forwardedTo: number }>(CONTROLLER_API.commands, { method: "POST", body: JSON.stringify(body) });

  const meterView = (agent: MeterAgentHarness) =>
    controller.status().meters.find((m) => m.meter === agent.meter)!;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-controller-it-"));
    healthUrl = await health.start();
    const controllers = [controllerKey.address as `0x${string}`];
    low = new MeterAgentHarness({ dir, name: "low", controllers, batteryCharge: 0.1 });
    high = new MeterAgentHarness({ dir, name: "high", controllers, batteryCharge: 0.8 });
    plain = new MeterAgentHarness({ dir, name: "plain", controllers });
    agents = [low, high, plain];
    for (const agent of agents) {
      await agent.up();
      await agent.record(3);
    }
    // Fifteen simulated minutes (1.5 s) before an hour starts: the readings land in more than one hour file.
    clock = clockStartingAt(Math.ceil(Date.now() / HOUR_MS) * HOUR_MS + HOUR_MS - 15 * 60_000);
    controller = await startController();
  });

  after(async () => {
    await controller?.stop();
    for (const agent of agents ?? []) await agent.close();
    await health.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("initialises every meter and polls its readings into usage files, acknowledged on the agent", async () => {
    await eventually("every reading is stored and acknowledged, and the data interval set", () =>
      agents.every(
        (a) =>
          a.store.counts().pending === 0 &&
          meterView(a).lastSequence === "3" &&
          a.state().dataIntervalSeconds === 60,
      ),
    );
    for (const agent of agents) {
      const state = agent.state();
      expect(state, "Initialize_meters: aggregate (lossless) and the data interval").to.include({
        aggregating: true,
        aggregationLossless: true,
        dataIntervalSeconds: 60,
      });
      expect(agent.store.counts()).to.deep.equal({ total: 3, pending: 0, delivered: 3, expired: 0 });
    }
    const files = await usageFileReadings(join(dir, "controller"));
    firstHour = `${files[0]!.file.slice(0, 13)}:00:00Z`;
    const stored = files.flatMap((f) => f.readings);
    for (const agent of agents) {
      const expected = range(3).map((s) => signedReadingToJson(agent.store.get(BigInt(s))!));
      const mine = stored.filter(
        (r) =>
          (r as { reading: { meter: string } }).reading.meter.toLowerCase() === agent.meter.toLowerCase(),
      );
      expect(mine, "readings are kept exactly as the meter signed them").to.deep.equal(expected);
    }
    const status = controller.status();
    expect(status.dataIntervalSeconds).to.equal(60);
    // Not chai closeTo: hardhat's chai matchers take it over for integers only.
    expect(Math.abs(meterView(low).batteryPercent! - 0.1)).to.be.below(1e-9);
    expect(meterView(plain).batteryThreshold).to.equal(null);
  });

  it("shares power while a battery is below its threshold, and stops once none is", async () => {
    await eventually("the charged battery shares", () => high.state().sharingPower);
    expect(high.state().batteryThreshold).to.equal(0.3);
    expect(low.state().sharingPower, "the battery below its threshold does not share").to.equal(false);
    expect(plain.state().sharingPower).to.equal(false);
    await eventually("the controller's Meter_States shows it", () => meterView(high).sharingPower);

    low.setCharge(0.6);
    await eventually("sharing stops", () => !high.state().sharingPower && !meterView(high).sharingPower);
    expect(low.state().sharingPower).to.equal(false);
  });

  it("reduces demand while the utility is unreachable and lifts it when the utility is back", async () => {
    health.status = 503;
    await eventually("every meter reduces demand", () => agents.every((a) => a.state().reducingPowerDemand));
    expect(controller.status()).to.include({ utilityReachable: false, offlineDemandReduction: true });
    health.status = 200;
    await eventually("every meter stops reducing", () => agents.every((a) => !a.state().reducingPowerDemand));
    expect(controller.status()).to.include({ utilityReachable: true, offlineDemandReduction: false });
  });

  it("keeps a reduction the utility asked for when the utility goes away and comes back", async () => {
    expect((await command({ command: "reduce_power_demand_on" })).body.forwardedTo).to.equal(3);
    await eventually("every meter reduces demand", () => agents.every((a) => a.state().reducingPowerDemand));
    health.status = 503;
    await eventually("the controller sees the outage", () => controller.status().offlineDemandReduction);
    health.status = 200;
    await eventually(
      "the controller sees the utility back",
      () => !controller.status().offlineDemandReduction,
    );
    await new Promise((r) => setTimeout(r, 300)); // three data intervals for any wrong command to arrive
    expect(agents.map((a) => a.state().reducingPowerDemand)).to.deep.equal([true, true, true]);
    await command({ command: "reduce_power_demand_off" });
    await eventually("every meter stops reducing", () => agents.every((a) => !a.state().reducingPowerDemand));
  });

  it("forwards the utility's commands to every agent", async () => {
    const rates = {
      month: "2026-12",
      peakRate: "310000",
      offPeakRate: "120000",
      peakStartHour: 17,
      peakEndHour: 21,
    };
    expect((await command({ command: "put_billing_rates", params: rates })).body.forwardedTo).to.equal(3);
    await eventually("every agent has the rates", () =>
      agents.every((a) => a.billingRates().some((r) => r.month === "2026-12" && r.peakRate === "310000")),
    );
    expect(
      (await command({ command: "set_data_interval", params: { seconds: 120 } })).body.forwardedTo,
    ).to.equal(3);
    await eventually("every agent has the interval", () =>
      agents.every((a) => a.state().dataIntervalSeconds === 120),
    );
    expect(controller.status().dataIntervalSeconds).to.equal(120);
    const supply = await command({ command: "set_grid_supply", params: { fraction: 0.5 } });
    expect(supply.body.forwardedTo, "grid supply is the controller's, not the meters'").to.equal(0);
    expect(controller.status().gridSupplyFraction).to.equal(0.5);
    const refused = await command({ command: "set_data_interval", params: { seconds: 3 } });
    expect(refused.status).to.equal(400);
    expect(controller.status().dataIntervalSeconds).to.equal(120);
  });

  it("loses and repeats nothing while an agent is down and the controller restarts", async () => {
    // Usually over by now (the clock started fifteen simulated minutes before an hour): readings from
    // here on are received in a later hour than the first ones.
    await eventually("the first hour is over", () => clock.now() >= hourStartMs(firstHour) + HOUR_MS, 15_000);
    await plain.down();
    await plain.record(8);
    await low.record(2);
    await high.record(2);
    await eventually("the reachable meters are polled", () => meterView(low).lastSequence === "5");
    await eventually("the meter has been unreachable for three data intervals", () => {
      const last = meterView(plain).lastUpdateMs;
      return last !== null && clock.now() - last > 3 * 120_000;
    });
    await controller.stop();
    await low.record(1);
    controller = await startController();
    await eventually("the restarted controller polls the reachable meters", () =>
      [low, high].every((a) => a.store.counts().pending === 0),
    );
    expect(meterView(plain).lastSequence, "the controller kept what it had stored").to.equal("3");
    await plain.record(2);
    await plain.up();
    await eventually("the agent that was down is caught up", () => plain.store.counts().pending === 0);

    const files = await usageFileReadings(join(dir, "controller"));
    expect(files.length, "readings were received in more than one hour").to.be.greaterThan(1);
    const byMeter = sequencesByMeter(files);
    expect(byMeter.get(low.meter.toLowerCase())).to.deep.equal(range(6));
    expect(byMeter.get(high.meter.toLowerCase())).to.deep.equal(range(5));
    expect(byMeter.get(plain.meter.toLowerCase())).to.deep.equal(range(13));
    expect(meterView(plain).lastSequence).to.equal("13");
  });

  it("serves completed hours to the utility and keeps them as backups once acknowledged", async () => {
    const running = hourOf(clock.now());
    const query = `?from=${firstHour}&to=${running}`;
    const listed = await utility<UsageHoursResponse>(CONTROLLER_API.usageHours + query);
    expect(listed.status).to.equal(200);
    expect(listed.body.hours[0]?.hour).to.equal(firstHour);
    expect(
      listed.body.hours.map((h) => h.hour),
      "the running hour is not listed",
    ).not.to.include(running);
    expect((await utility(CONTROLLER_API.usageHour(running))).status).to.equal(409);
    for (const { hour, readings } of listed.body.hours) {
      const got = await utility<UsageHourResponse>(CONTROLLER_API.usageHour(hour));
      expect(got.body.readings).to.have.length(readings);
      const ack = await utility<{ backup: boolean }>(CONTROLLER_API.ackHour(hour), { method: "POST" });
      expect(ack.body.backup).to.equal(true);
    }
    const files = await usageFileReadings(join(dir, "controller"));
    expect(files.filter((f) => f.file.endsWith(".jsonl.gz"))).to.have.length(listed.body.hours.length);
    const byMeter = sequencesByMeter(files);
    expect(byMeter.get(plain.meter.toLowerCase()), "still each reading exactly once").to.deep.equal(
      range(13),
    );
    const again = await utility<UsageHoursResponse>(CONTROLLER_API.usageHours + query);
    expect(again.body.hours.every((h) => h.backup)).to.equal(true);
    const served = await utility<UsageHourResponse>(CONTROLLER_API.usageHour(firstHour));
    expect(served.body.backup).to.equal(true);
    expect(served.body.readings).to.have.length(listed.body.hours[0]!.readings);
  });

  it("a replacement controller with the same key resyncs its nonces with the agents", async () => {
    await controller.stop();
    const seen = agents.map((a) => a.lastNonceFrom(controllerKey.address));
    expect(
      Math.min(...seen.map(Number)),
      "the agents have seen nonces a fresh controller would reuse",
    ).to.be.greaterThan(1);
    controller = await startController("replacement");
    await eventually("the replacement polls every meter", () =>
      agents.every((a) => {
        const view = meterView(a);
        return (
          view.lastUpdateMs !== null && view.lastSequence === a.store.last()!.reading.sequence.toString()
        );
      }),
    );
    agents.forEach((a, i) => expect(a.lastNonceFrom(controllerKey.address) > seen[i]!).to.equal(true));
  });
});

describe("microgrid controller and an agent that refuses it", function () {
  this.timeout(60_000);
  const health = new UtilityHealth();
  let dir: string;
  let agent: MeterAgentHarness;
  let controller: MicrogridController;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gridmesh-controller-refused-"));
    // The agent obeys another controller only: it refuses every command of this one (401).
    agent = new MeterAgentHarness({
      dir,
      name: "stranger",
      controllers: [Wallet.createRandom().address as `0x${string}`],
    });
    await agent.up();
    const config = parseControllerConfig(
      {
        controllerId: "residential-2",
        dataDir: "controller",
        http: { port: 0 },
        utility: { healthUrl: await health.start(), tokenSha256: TOKEN_SHA256 },
        key: { keystore: "unused.json", passphraseFile: "unused" },
        chainId: 31337,
        meters: [{ meter: agent.meter, url: agent.url }],
        dataIntervalSeconds: 60,
      },
      dir,
    );
    controller = new MicrogridController({
      config,
      signer: Wallet.createRandom(),
      clock: clockStartingAt(Date.now()),
      logger: pino({ level: "silent" }),
    });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    await agent?.close();
    await health.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("records a refused command once and does not send it again", async () => {
    const res = await fetch(controller.url + CONTROLLER_API.commands, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ command: "reduce_power_demand_on" }),
    });
    expect(res.status).to.equal(200);
    await eventually("no command is left pending", () => controller.status().pendingMeterCommands === 0);
    await new Promise((r) => setTimeout(r, 300)); // three data intervals of polls that fail too
    expect(controller.status().pendingMeterCommands).to.equal(0);
    expect(agent.state().reducingPowerDemand).to.equal(false);
    await controller.stop();

    const db = new DatabaseSync(join(dir, "controller", "controller.db"), { readOnly: true });
    try {
      const rows = db
        .prepare("SELECT command, status, attempts, last_error FROM meter_outbox ORDER BY id")
        .all();
      expect(rows.map((r) => [r.command, r.status, r.attempts])).to.deep.equal([
        ["set_data_interval", "refused", 0],
        ["reduce_power_demand_on", "refused", 0],
      ]);
      for (const row of rows)
        expect(String(row.last_error)).to.match(/refused with 401 CommandUnauthorizedError/);
    } finally {
      db.close();
    }
  });
});

describe("controllerMain, the controller process", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "gridmesh-controller-main-"))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  function run(args: string[]) {
    const child = spawn(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        "--import",
        "tsx",
        "src/microgrid/controllerMain.ts",
        ...args,
      ],
      { cwd: join(import.meta.dirname, "../../gateway"), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it("starts from its configuration file, says where it listens, and stops cleanly on SIGTERM", async () => {
    const key = Wallet.createRandom();
    const json = await encryptKeystoreJson(
      { address: key.address, privateKey: key.privateKey },
      "controller passphrase",
      { scrypt: { N: 1024 } },
    );
    await writeFile(join(dir, "key.json"), json);
    await writeFile(join(dir, "pass"), "controller passphrase\n");
    await writeFile(
      join(dir, "controller.json"),
      JSON.stringify({
        controllerId: "apartments",
        dataDir: "data",
        http: { port: 0 },
        utility: { healthUrl: "http://127.0.0.1:9/v1/health", tokenSha256: TOKEN_SHA256 },
        key: { keystore: "key.json", passphraseFile: "pass" },
        chainId: 31337,
        meters: [{ meter: Wallet.createRandom().address, url: "http://127.0.0.1:9" }],
      }),
    );
    const p = run(["--config", join(dir, "controller.json")]);
    await eventually("it listens", () => p.out().includes('"msg":"controller listening"'), 30_000);
    const line = p
      .out()
      .split("\n")
      .find((l) => l.startsWith('{"msg":"controller listening"'))!;
    const { url, controller } = JSON.parse(line) as { url: string; controller: string };
    expect(controller).to.equal(key.address);
    const res = await fetch(url + CONTROLLER_API.status, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).to.equal(200);
    expect(((await res.json()) as ControllerStatus).controllerId).to.equal("apartments");
    p.child.kill("SIGTERM");
    expect(await p.exited).to.equal(0);
  });

  it("refuses a bad configuration naming each bad field, with exit code 2", async () => {
    await writeFile(
      join(dir, "controller.json"),
      JSON.stringify({ controllerId: "Bad Name", http: { port: -1 } }),
    );
    const p = run(["--config", join(dir, "controller.json")]);
    expect(await p.exited).to.equal(2);
    for (const field of ["controllerId", "http.port", "dataDir", "utility", "key", "chainId", "meters"])
      expect(p.err()).to.include(`${field}:`);
  });
});
