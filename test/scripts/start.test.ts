import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import {
  Contract,
  type ContractTransactionResponse,
  JsonRpcProvider,
  MaxUint256,
  verifyTypedData,
  Wallet,
} from "ethers";

import {
  batteryReportTypes,
  type BatteryState,
  energyMarketAbi,
  gatewayDomain,
  mutableTypes,
  testDollarAbi,
} from "@gridmesh/contracts";

import { prepareDataDir } from "../../scripts/local/dataDir.js";
import { accountCountFor, devAccountKey, ownerAccountOf } from "../../scripts/local/devAccounts.js";
import { inverterCurrent } from "../../scripts/local/homeInverter.js";
import { townHomes } from "../../scripts/local/homeSpecs.js";
import { defaultSimulatedStart, simulatedClockStartingAt } from "../../scripts/local/simulatedClock.js";
import { webBuildStale } from "../../scripts/local/webApp.js";
import { processTree, stillRunning, type ProcessInfo } from "../helpers/processTree.js";
import { waitFor } from "../helpers/serviceProcess.js";

interface StoredBatteryReport {
  meter: string;
  takenAt: number;
  batteries: BatteryState[];
  signature: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Runs the README's `npm start`, detached in its own process group as a terminal job would be.
 * GRIDMESH_SKIP_INSTALL keeps the bootstrap from reinstalling node_modules under this test run.
 */
function npmStart(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn("npm", ["start", "--silent", "--", ...args], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      GRIDMESH_SKIP_INSTALL: "1",
      // Our Node first, as the bootstrap would arrange it.
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The first capture of `pattern` in the output, once it is there. */
const printed = (output: () => string, pattern: RegExp) => () => pattern.exec(output())?.[1];

async function send(contract: Contract, method: string, ...args: unknown[]): Promise<void> {
  await ((await contract.getFunction(method)(...args)) as ContractTransactionResponse).wait();
}

describe("npm start (scripts/start.ts)", function () {
  this.timeout(240_000);
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  afterEach(async function () {
    for (const child of children.splice(0)) {
      if (child.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
    }
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("runs three simulated homes on serial meters whose readings reach the gateway, clears and settles an interval on the simulated clock, and leaves nothing behind on Ctrl-C", async function () {
    const [port, gatewayPort] = [await freePort(), await freePort()];
    const dataDir = await mkdtemp(path.join(tmpdir(), "gridmesh-start-"));
    dirs.push(dataDir);
    // The web app is the other tests' business (test/e2e); its build would double this test's time.
    const { child, output } = npmStart([
      ...["--homes", "3", "--interval", "15", "--no-web", "--data-dir", dataDir],
      ...["--port", String(port), "--gateway-port", String(gatewayPort)],
    ]);
    children.push(child);
    const exited = once(child, "exit");
    const startedAt = Date.now();
    const fail = (what: string) => `${what}\n--- npm start said:\n${output().slice(-6000)}`;
    await waitFor(
      "the summary",
      () => {
        if (child.exitCode !== null) throw new Error(fail(`npm start exited with ${child.exitCode}`));
        return output().includes("GridMesh local system is running") ? true : undefined;
      },
      150_000,
    );
    const url = `http://127.0.0.1:${port}`;
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    expect(output()).to.contain(`JSON-RPC          ${url}`);
    expect(output()).to.contain(`Gateway API       ${gateway}`);
    expect(output(), "the summary says why there is no web app").to.match(
      /Web app\s+not served: not requested/,
    );
    const meters = [
      ...output().matchAll(/(home-0\d)\s+owner (0x[0-9a-fA-F]{40}).*meter (0x[0-9a-fA-F]{40})/g),
    ];
    expect(meters.map((m) => m[1])).to.deep.equal(["home-01", "home-02", "home-03"]);
    const address = (label: string) => printed(output, new RegExp(`${label}\\s+(0x[0-9a-fA-F]{40})`))()!;
    const [token, market] = [address("TestDollar"), address("EnergyMarket")];
    console.log(`      (npm start was up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);

    // The chain runs on the simulated clock: 60× the wall clock, give or take one clock tick.
    const chainTime = async () =>
      Number(
        ((await rpc(url, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string }).timestamp,
      );
    const [t0, w0] = [await chainTime(), Date.now()];
    await new Promise((r) => setTimeout(r, 3000));
    const [t1, w1] = [await chainTime(), Date.now()];
    const rate = (t1 - t0) / ((w1 - w0) / 1000);
    expect(rate, "chain seconds per wall-clock second").to.be.within(40, 80);
    expect(t1 * 1000, "the chain is ahead of the wall clock").to.be.greaterThan(Date.now());

    // Each home reads a serial meter through the real driver, on a pseudo-terminal of the device simulator.
    for (const [, name] of meters) {
      const config = JSON.parse(await readFile(path.join(dataDir, "homes", name!, "agent.json"), "utf8")) as {
        source: { kind: string; path: string };
      };
      expect(config.source.kind, `${name}'s reading source`).to.equal("sdm");
      expect(config.source.path).to.match(/^\/dev\/pts\/\d+$/);
    }

    // Home 1's owner offers, home 2's owner bids, by hand, for an interval whose gate is well ahead.
    const provider = new JsonRpcProvider(url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    // Homes 1 and 2 are owned by Hardhat accounts 1 and 2 and trade by hand.
    const [seller, buyer] = [new Wallet(devAccountKey(1), provider), new Wallet(devAccountKey(2), provider)];
    expect(seller.address).to.equal(meters[0]![2]);
    expect(buyer.address).to.equal(meters[1]![2]);
    const interval = BigInt(Math.floor((await chainTime()) / 900) + 2);
    for (const [owner, meter, place, price] of [
      [seller, meters[0]![3]!, "placeOffer", 50_000n],
      [buyer, meters[1]![3]!, "placeBid", 250_000n],
    ] as const) {
      await send(new Contract(token, testDollarAbi, owner), "approve", market, MaxUint256);
      await send(new Contract(market, energyMarketAbi, owner), place, meter, interval, 400n, price);
    }
    provider.destroy();

    // Readings from all three meters reach the gateway and the ledger.
    await waitFor(
      "a recorded reading of every meter at the gateway",
      async () => {
        for (const [, , , meter] of meters) {
          const page = await getJson<{ items: { ledgerStatus: string }[] }>(
            `${gateway}/v1/readings?meter=${meter}&ledgerStatus=recorded`,
          );
          if (page.items.length === 0) return undefined;
        }
        return true;
      },
      90_000,
      500,
    );
    // Home 1's battery is shared between the household and the microgrid: its agent reports the cell
    // and both partitions, signed with the meter's key, and the partitions share out the cell.
    const battery = await waitFor(
      "home 1's battery report at the gateway",
      async () =>
        (
          await getJson<{ latest: StoredBatteryReport | null }>(
            `${gateway}/v1/devices/${meters[0]![3]}/battery`,
          )
        ).latest ?? undefined,
      60_000,
      500,
    );
    expect(battery.batteries.map((b) => [b.name, b.kind, b.source])).to.deep.equal([
      ["home", "physical", ""],
      ["household", "partition", "home"],
      ["microgrid-share", "partition", "home"],
    ]);
    const [cell, ...shares] = battery.batteries;
    expect(shares.reduce((sum, b) => sum + b.capacityMah, 0)).to.equal(cell!.capacityMah);
    const signer = verifyTypedData(
      gatewayDomain(31337n),
      mutableTypes(batteryReportTypes),
      { meter: battery.meter, takenAt: battery.takenAt, batteries: battery.batteries },
      battery.signature,
    );
    expect(signer.toLowerCase()).to.equal(meters[0]![3]!.toLowerCase());
    // Home 3 trades automatically: its agent places orders for its owner under the owner's delegation.
    await waitFor(
      "an order of home 3's agent for its owner",
      async () => {
        const page = await getJson<{ items: unknown[] }>(`${gateway}/v1/orders?owner=${meters[2]![2]}`);
        return page.items.length > 0 ? true : undefined;
      },
      60_000,
      500,
    );
    // The interval clears on chain before it starts, and settles from the meters' readings after it ends.
    const clearing = await waitFor(
      `interval ${interval} to clear`,
      async () => {
        const page = await getJson<{ items: { status: string; volumeWh: string; price: string }[] }>(
          `${gateway}/v1/clearings?from=${interval}&to=${interval}`,
        );
        const c = page.items[0];
        return c !== undefined && c.status !== "computed" && c.status !== "submitting" ? c : undefined;
      },
      90_000,
      500,
    );
    expect(clearing.status, JSON.stringify(clearing)).to.equal("finalized");
    expect(clearing.volumeWh).to.equal("400");
    const settlement = await waitFor(
      `interval ${interval} to settle`,
      async () => {
        const page = await getJson<{ items: { status: string }[] }>(
          `${gateway}/v1/settlements?interval=${interval}`,
        );
        const s = page.items[0];
        return s !== undefined && (s.status === "settled" || s.status === "failed") ? s : undefined;
      },
      90_000,
      500,
    );
    expect(settlement.status, JSON.stringify(settlement)).to.equal("settled");

    // Ctrl-C in a terminal signals the whole foreground process group; every process must end,
    // whichever group it put itself in.
    const tree: ProcessInfo[] = processTree(child.pid!);
    const kinds = (pattern: RegExp) => tree.filter((p) => pattern.test(p.command)).length;
    expect(kinds(/gridmesh-agent\.mjs run/), "agent processes").to.equal(3);
    expect(kinds(/controllerMain\.ts/), "controller processes").to.equal(1);
    expect(kinds(/gateway\/src\/main\.ts/), "gateway processes").to.equal(1);
    expect(kinds(/homeDevicesMain\.ts/), "device simulator processes").to.equal(1);
    expect(kinds(/^socat /), "socat pseudo-terminal pairs (3 meters, 2 batteries)").to.equal(5);
    process.kill(-child.pid!, "SIGINT");
    const [exitCode, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal === "SIGINT" || exitCode === 0, fail(`exit ${exitCode} ${signal}`)).to.equal(true);
    expect(output()).to.contain("SIGINT received, stopping");
    await waitFor(
      "every process to end",
      () => (stillRunning(tree).length === 0 ? true : undefined),
      20_000,
    ).catch(() => {
      throw new Error(
        fail(
          `still running:\n${stillRunning(tree)
            .map((p) => `${p.pid} ${p.command}`)
            .join("\n")}`,
        ),
      );
    });
    expect(groupAlive(child.pid!)).to.equal(false);
    for (const freed of [port, gatewayPort]) {
      const probe: Server = createServer();
      probe.listen(freed, "127.0.0.1");
      await once(probe, "listening");
      probe.close();
    }
  });

  it("leaves nothing behind when npm start itself is killed outright (SIGKILL)", async function () {
    const dataDir = await mkdtemp(path.join(tmpdir(), "gridmesh-start-"));
    dirs.push(dataDir);
    const [port, gatewayPort] = [await freePort(), await freePort()];
    const { child, output } = npmStart([
      ...["--homes", "2", "--interval", "15", "--no-web", "--data-dir", dataDir],
      ...["--port", String(port), "--gateway-port", String(gatewayPort)],
    ]);
    children.push(child);
    await waitFor(
      "the summary",
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output()}`);
        return output().includes("GridMesh local system is running") ? true : undefined;
      },
      150_000,
    );
    const tree = processTree(child.pid!);
    const main = tree.find((p) => /scripts\/start\.ts/.test(p.command) && !/bootstrap/.test(p.command));
    expect(main, tree.map((p) => p.command).join("\n")).to.not.equal(undefined);
    expect(tree.filter((p) => /gridmesh-agent\.mjs run/.test(p.command))).to.have.length(2);
    // No handler runs: only the guard, told of every child, can stop them.
    process.kill(main!.pid, "SIGKILL");
    await waitFor(
      "every process to end",
      () => (stillRunning(tree).length === 0 ? true : undefined),
      40_000,
    ).catch(() => {
      throw new Error(
        `still running:\n${stillRunning(tree)
          .map((p) => `${p.pid} ${p.command}`)
          .join("\n")}`,
      );
    });
  });

  it("refuses to start on a port that is taken, with a clear message", async function () {
    const blocker = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const port = (blocker.address() as { port: number }).port;
    try {
      const { child, output } = npmStart(["--port", String(port), "--no-web"]);
      children.push(child);
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).to.equal(1);
      expect(output()).to.contain(`127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("refuses an invalid port, and an interval too short for gate closure", async function () {
    for (const [args, message] of [
      [["--port", "70000"], /--port: .*65535/],
      [["--interval", "3"], /--interval: must be at least 6/],
      [["--homes", "0"], /--homes: /],
    ] as const) {
      const { child, output } = npmStart([...args]);
      children.push(child);
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code, output()).to.equal(1);
      expect(output()).to.match(message);
    }
  });
});

describe("npm start's parts (scripts/local)", function () {
  it("starts the simulated clock two hours before a UTC month ends, never behind the wall clock", function () {
    const midMonth = Date.UTC(2026, 10, 12, 9, 30);
    expect(new Date(defaultSimulatedStart(midMonth)).toISOString()).to.equal("2026-11-30T22:00:00.000Z");
    // Too close to this month's end: the next month's.
    const late = Date.UTC(2026, 10, 30, 22, 30);
    expect(new Date(defaultSimulatedStart(late)).toISOString()).to.equal("2026-12-31T22:00:00.000Z");
    const clock = simulatedClockStartingAt(Date.UTC(2026, 10, 30, 22), 60, midMonth);
    const read = (wall: number) =>
      clock.config.originMs + (wall - clock.config.originMs) * clock.config.speed;
    // The origin is a whole millisecond, so the clock reads the start to within `speed` ms.
    expect(read(midMonth)).to.be.closeTo(Date.UTC(2026, 10, 30, 22), 60);
    expect(read(midMonth + 15_000) - read(midMonth)).to.be.closeTo(900_000, 1);
    expect(() => simulatedClockStartingAt(midMonth, 1)).to.throw(/faster than real time/);
  });

  it("gives homes their owners around the verifier accounts, and the node enough accounts", function () {
    expect([1, 16, 17, 20].map(ownerAccountOf)).to.deep.equal([1, 16, 20, 23]);
    expect(accountCountFor(12)).to.equal(20);
    expect(accountCountFor(17)).to.equal(21);
    expect(new Wallet(devAccountKey(0)).address).to.equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  });

  it("makes the same town every time: homes 1 and 2 trade by hand, about half of the rest automatically", function () {
    expect(townHomes(12)).to.deep.equal(townHomes(12));
    const homes = townHomes(12);
    expect(homes.slice(0, 2).map((h) => h.trading)).to.deep.equal([undefined, undefined]);
    const automatic = homes.slice(2).filter((h) => h.trading !== undefined);
    expect(automatic.length).to.equal(5);
    // Buyers and sellers among them, so automatic orders can meet.
    expect(automatic.some((h) => h.solarPeakW === 0)).to.equal(true);
    expect(automatic.some((h) => h.solarPeakW > 3000)).to.equal(true);
    expect(new Set(homes.map((h) => h.solarPeakW)).size).to.be.greaterThan(6);
    expect(homes.filter((h) => h.battery !== undefined).length).to.be.within(3, 9);
    expect(new Set(homes.map((h) => h.controller)).size).to.equal(2);
    for (const h of automatic)
      expect(h.trading!.minSellPricePerKwh < h.trading!.maxBuyPricePerKwh).to.equal(true);
  });

  it("drives the battery as the BMS's FETs allow: self-consumption, discharge at the rating, charge from surplus", function () {
    const base = { voltageV: 50, maxChargeA: 40, maxDischargeA: 30, inverterW: 2000 };
    const both = { charge: true, discharge: true };
    expect(inverterCurrent({ ...base, mosfets: both, solarW: 0, loadW: 1000 })).to.equal(20);
    expect(inverterCurrent({ ...base, mosfets: both, solarW: 5000, loadW: 500 })).to.equal(-40);
    expect(inverterCurrent({ ...base, mosfets: both, solarW: 3000, loadW: 3000 })).to.equal(0);
    const discharge = { charge: false, discharge: true };
    expect(inverterCurrent({ ...base, mosfets: discharge, solarW: 4000, loadW: 0 })).to.equal(30);
    const charge = { charge: true, discharge: false };
    expect(inverterCurrent({ ...base, mosfets: charge, solarW: 0, loadW: 800 })).to.equal(0);
    expect(inverterCurrent({ ...base, mosfets: charge, solarW: 1500, loadW: 500 })).to.equal(-20);
    const off = { charge: false, discharge: false };
    expect(inverterCurrent({ ...base, mosfets: off, solarW: 0, loadW: 800 })).to.equal(0);
  });

  it("empties its own data directory at each start, and refuses to empty anyone else's", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "gridmesh-data-"));
    try {
      await writeFile(path.join(dir, "thesis.tex"), "years of work");
      let refused: unknown;
      await prepareDataDir(dir).catch((e: unknown) => (refused = e));
      expect(String(refused)).to.match(/holds files that are not the local system's \(thesis\.tex/);
      expect(await readFile(path.join(dir, "thesis.tex"), "utf8")).to.equal("years of work");
      await rm(path.join(dir, "thesis.tex"));
      await prepareDataDir(dir);
      await writeFile(path.join(dir, "logs", "gateway.log"), "{}");
      expect(await prepareDataDir(dir)).to.equal(path.join(dir, "logs"));
      expect(await readdir(path.join(dir, "logs"))).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rebuilds the web app only when a source or configuration file is newer than its last build", async function () {
    const web = await mkdtemp(path.join(tmpdir(), "gridmesh-web-"));
    try {
      await mkdir(path.join(web, "src", "app"), { recursive: true });
      await writeFile(path.join(web, "src", "app", "page.tsx"), "export default 1;\n");
      await writeFile(path.join(web, "next.config.ts"), "export default {};\n");
      expect(await webBuildStale(web), "never built").to.equal(true);
      await mkdir(path.join(web, ".next"));
      const buildId = path.join(web, ".next", "BUILD_ID");
      await writeFile(buildId, "x");
      const at = (file: string, s: number) => utimes(file, s, s);
      await at(path.join(web, "src", "app", "page.tsx"), 1_000);
      await at(path.join(web, "next.config.ts"), 1_000);
      await at(buildId, 2_000);
      expect(await webBuildStale(web), "built after every change").to.equal(false);
      await at(path.join(web, "next.config.ts"), 3_000);
      expect(await webBuildStale(web), "configuration changed").to.equal(true);
      await at(path.join(web, "next.config.ts"), 1_000);
      await at(path.join(web, "src", "app", "page.tsx"), 3_000);
      expect(await webBuildStale(web), "a source changed").to.equal(true);
    } finally {
      await rm(web, { recursive: true, force: true });
    }
  });
});
