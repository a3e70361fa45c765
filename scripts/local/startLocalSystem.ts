import path from "node:path";

import { JsonRpcProvider, Wallet } from "ethers";

import { resolveConfig } from "../fabric/config.js";
import { fabricDown, fabricUp } from "../fabric/network.js";
import { startAgent } from "./agentProcess.js";
import { ChainClock } from "./chainClock.js";
import { prepareDataDir } from "./dataDir.js";
import { startChainNode } from "./chainNode.js";
import { startController } from "./controllerProcess.js";
import { buildContracts, deployContracts } from "./deployContracts.js";
import { accountCountFor, devAccountKey } from "./devAccounts.js";
import { assertPortFree, freePorts } from "./freePorts.js";
import { startGateway } from "./gatewayProcess.js";
import { startHomeDevices } from "./homeDevices.js";
import { townHomes, type HomeSpec } from "./homeSpecs.js";
import {
  MARKET_INTERVAL_SECONDS,
  marketParameters,
  resolveLocalSystemOptions,
  type LocalSystemOptions,
} from "./localOptions.js";
import type { LocalController, LocalHome, LocalSystem, LocalSystemHooks } from "./localSystem.js";
import type { ManagedProcess } from "./managedProcess.js";
import { activateMeter, createMeterKeys } from "./meterIdentity.js";
import { delegateTrading, fundMeterGas, fundOwner, type Delegation } from "./ownerFunds.js";
import { OrphanGuard, setOrphanGuard } from "./orphanGuard.js";
import { ShutdownList } from "./shutdownList.js";
import { defaultSimulatedStart, monthName, simulatedClockStartingAt } from "./simulatedClock.js";
import { newToken, setBillingRates, writeUtilityFiles } from "./utilityFleet.js";
import { buildWebApp, serveWebApp, webAppUnavailable, webBuildStale } from "./webApp.js";

export type { LocalHome, LocalSystem, LocalSystemHooks } from "./localSystem.js";
export type { LocalSystemOptions } from "./localOptions.js";

/** Homes registered at once: each is a few transactions and a Keychecker run in the gateway. */
const REGISTRATION_CONCURRENCY = 4;

/** Runs `work` over `items`, at most `limit` at a time; fails with the first failure once all settled. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

/**
 * Starts the whole GridMesh system on this machine on one compressed clock: a Hardhat node whose
 * blocks follow the simulated clock, the contracts, the gateway (embedded store, clearing, settling,
 * Secure ID, and the utility billing its fleet), simulated homes (each a real meter agent reading a
 * simulated serial meter, and battery, on a pseudo-terminal, activated through Secure ID and funded),
 * one or two microgrid controllers polling them, and the web app. Everything it started is stopped
 * by `stop()`, or at once if starting fails.
 */
export async function startLocalSystem(
  options: LocalSystemOptions = {},
  hooks: LocalSystemHooks = {},
): Promise<LocalSystem> {
  const startedAt = performance.now();
  const o = resolveLocalSystemOptions(options);
  const progress = hooks.progress ?? (() => undefined);
  const shutdown = new ShutdownList();
  // Whatever this process starts is stopped even if it is killed outright (SIGKILL) mid-way.
  const guard = new OrphanGuard();
  setOrphanGuard(guard);
  shutdown.add("orphan guard", () => {
    setOrphanGuard(undefined);
    guard.close();
    return Promise.resolve();
  });
  const checkpoint = () => hooks.signal?.throwIfAborted();
  // Reported once ready: a process that fails to start fails the start itself, with its log.
  const track = <T>(process: ManagedProcess<T>): ManagedProcess<T> => {
    void process.ready
      .then(() => process.exited)
      .then(
        (exit) => {
          if (!process.stopping && !shutdown.stopping)
            hooks.processExited?.(process.name, exit, process.logFile);
        },
        () => undefined,
      );
    return process;
  };

  try {
    if (o.port !== 0) await assertPortFree(o.host, o.port, "node");
    if (o.gatewayPort !== 0) await assertPortFree(o.host, o.gatewayPort, "gateway");
    if (o.web && o.webPort !== 0) await assertPortFree(o.host, o.webPort, "web app");
    const dataDir = path.resolve(o.dataDir);
    const logsDir = await prepareDataDir(dataDir);

    // The gateway's time is the later of the chain's and the wall clock's: simulated time behind
    // the wall clock would have it clear the wrong intervals.
    if (o.startAtMs !== undefined && o.startAtMs < Date.now())
      throw new Error(`the simulated start ${new Date(o.startAtMs).toISOString()} is in the past`);
    const clock = simulatedClockStartingAt(
      o.startAtMs ?? defaultSimulatedStart(Date.now()),
      MARKET_INTERVAL_SECONDS / o.interval,
    );
    const simulatedStartMs = clock.now();
    const specs = townHomes(o.homes);
    const controllerIds = [...new Set(specs.map((s) => s.controller))];

    // The web app builds meanwhile: it needs nothing of the running system until it is served.
    let webNote = o.web ? await webAppUnavailable() : "not requested";
    let webBuilt = Promise.resolve();
    if (webNote === undefined && (await webBuildStale())) {
      progress("building the web app (first start, or its sources changed)");
      const build = buildWebApp(path.join(logsDir, "web-build.log"));
      shutdown.add("web build", () => build.process.stop());
      webBuilt = build.done;
      webBuilt.catch(() => undefined);
    }

    progress(`compiling the contracts and making ${specs.length} homes' keys and serial lines`);
    const devices = track(await startHomeDevices({ homes: specs, clock, dir: dataDir, logsDir }));
    shutdown.add("home devices", () => devices.stop());
    const [, keys, ports] = await Promise.all([
      buildContracts(),
      Promise.all(specs.map((s) => createMeterKeys(path.join(dataDir, "homes", s.name)))),
      // The agents' command servers, the controllers, and the gateway and web app if any port will
      // do: fixed now, so that each part is configured with where the others will listen.
      freePorts(o.host, specs.length + controllerIds.length + 2),
      devices.ready,
    ]);
    const lines = new Map((await devices.ready).map((l) => [l.name, l]));

    checkpoint();
    progress("starting the chain on the simulated clock and deploying the contracts");
    const node = await startChainNode({
      host: o.host,
      port: o.port,
      genesisMs: clock.now(),
      accounts: accountCountFor(specs.length),
    });
    shutdown.add("chain", () => node.close());
    const chainClock = new ChainClock({
      rpcUrl: node.rpcUrl,
      clock,
      // At most fifteen simulated seconds behind, at most ten blocks a second.
      tickMs: Math.max(100, Math.min(500, Math.round(15_000 / clock.speed))),
      onError: (error) => progress(`the chain clock could not mine a block: ${error.message}`),
    });
    await chainClock.start();
    shutdown.add("chain clock", () => chainClock.stop());
    const contracts = await deployContracts(node.rpcUrl, node.chainId);
    checkpoint();

    let secureId: Parameters<typeof startGateway>[0]["secureId"] = {
      kind: "embedded",
      file: path.join(dataDir, "secure-id.sqlite"),
    };
    if (o.fabric) {
      progress("starting the Fabric network (the first time builds it: a few minutes)");
      shutdown.add("fabric", () => fabricDown());
      await fabricUp();
      // fabricUp writes the network's profile there for clients such as the gateway.
      secureId = { kind: "fabric", profile: path.join(resolveConfig().home, "network.json") };
    }

    const urlOf = (port: number) => `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`;
    const commandPort = new Map(specs.map((s, i) => [s.name, ports[i]!]));
    const controllers = controllerIds.map((id, i) => ({
      id,
      port: ports[specs.length + i]!,
      url: urlOf(ports[specs.length + i]!),
      wallet: Wallet.createRandom(),
      token: newToken(`utility-${id}`),
    }));
    const homes = specs.map((spec, i) => ({
      spec,
      keys: keys[i]!,
      meter: keys[i]!.meter,
      commandsUrl: urlOf(commandPort.get(spec.name)!),
    }));
    const utilityFiles = await writeUtilityFiles(dataDir, controllers, homes);

    checkpoint();
    progress("starting the gateway with the utility, and the microgrid controllers");
    const gatewayPort = o.gatewayPort === 0 ? ports[specs.length + controllerIds.length]! : o.gatewayPort;
    const gatewayUrl = urlOf(gatewayPort);
    const webPort = o.webPort === 0 ? ports[specs.length + controllerIds.length + 1]! : o.webPort;
    const gateway = track(
      await startGateway({
        dir: dataDir,
        logsDir,
        host: o.host,
        port: gatewayPort,
        rpcUrl: node.rpcUrl,
        chainId: node.chainId,
        contracts,
        clock,
        secureId,
        utility: utilityFiles,
        // Twenty passes per gate closure, at least five a second: the clearing must be on chain
        // before the interval starts, a sixth of an interval after the gate closes.
        pollMs: Math.max(200, Math.min(1_000, Math.round((o.interval * 1000) / 6 / 5))),
        logLevel: o.logLevel,
      }),
    );
    shutdown.add("gateway", () => gateway.stop(15_000));

    // Started beside the gateway: the utility asks them for their hours from its first minute.
    const controllerProcesses: ManagedProcess<string>[] = [];
    shutdown.add("controllers", () => Promise.all(controllerProcesses.map((c) => c.stop())));
    const controllersStarted = Promise.all(
      controllers.map(async (c) => {
        const process = track(
          await startController({
            dir: path.join(dataDir, "controllers", c.id),
            logsDir,
            id: c.id,
            host: o.host,
            port: c.port,
            wallet: c.wallet,
            meters: homes
              .filter((h) => h.spec.controller === c.id)
              .map((h) => ({ meter: h.meter, url: h.commandsUrl, battery: h.spec.battery !== undefined })),
            healthUrl: `${gatewayUrl}/v1/health`,
            token: c.token,
            chainId: node.chainId,
            clock,
            logLevel: o.logLevel,
          }),
        );
        controllerProcesses.push(process);
        await process.ready;
      }),
    );
    controllersStarted.catch(() => undefined);
    await gateway.ready;
    const rates = setBillingRates(gatewayUrl, utilityFiles.operatorToken, simulatedStartMs);
    rates.catch(() => undefined);

    checkpoint();
    progress(`registering ${specs.length} meters through Secure ID and starting their agents`);
    // No response cache: each owner sends several transactions in a row, and a cached nonce repeats one.
    const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    provider.pollingInterval = 100;
    shutdown.add("provider", () => Promise.resolve(provider.destroy()));
    const agents: ManagedProcess<string>[] = [];
    shutdown.add("agents", () => Promise.all(agents.map((a) => a.stop())));
    // Stopped again here, so first (a stopped process's stop is a no-op): controllers polling agents
    // that are already gone would only log every meter as unreachable on the way out.
    shutdown.add("controllers before their meters", () =>
      Promise.all(controllerProcesses.map((c) => c.stop())),
    );
    const localHomes = new Map<string, LocalHome>();
    const startHome = async ({ spec, keys: k, commandsUrl }: (typeof homes)[number]) => {
      checkpoint();
      const owner = new Wallet(devAccountKey(spec.ownerAccount), provider);
      await activateMeter({
        keys: k,
        owner,
        registry: contracts.meterRegistry,
        chainId: node.chainId,
        gatewayUrl,
        attributes: { manufacturer: "Eastron", model: "SDM120-Modbus", serial: `GM-SIM-${spec.index}` },
      });
      await fundOwner(owner, contracts);
      await fundMeterGas(owner, k.meter);
      const delegation: Delegation | undefined =
        spec.trading === undefined
          ? undefined
          : await delegateTrading(
              owner,
              k.meter,
              spec.trading,
              contracts,
              BigInt(Math.floor(clock.now() / 1000)),
            );
      const controller = controllers.find((c) => c.id === spec.controller)!;
      const agent = track(
        await startAgent({
          spec,
          keys: k,
          logsDir,
          chainId: node.chainId,
          ledger: contracts.deliveryLedger,
          gatewayUrl,
          lines: { meter: lines.get(spec.name)!.meter, bms: lines.get(spec.name)!.bms },
          commands: {
            host: o.host,
            port: commandPort.get(spec.name)!,
            controller: controller.wallet.address,
          },
          clock,
          // Every agent runs the trader; it places orders only under a live delegation (homes 1 and 2
          // start without one, and trade automatically only once their owner sets a rule).
          trading: { market: contracts.energyMarket, rpcUrl: node.rpcUrl, owner: owner.address },
          logLevel: o.logLevel,
        }),
      );
      agents.push(agent);
      await agent.ready;
      localHomes.set(spec.name, localHome(spec, k, owner, commandsUrl, delegation, agent.logFile));
    };
    await eachLimited(homes, REGISTRATION_CONCURRENCY, startHome);
    await controllersStarted;
    await rates;

    let webUrl: string | undefined;
    if (webNote === undefined) {
      try {
        await webBuilt;
        checkpoint();
        progress("starting the web app");
        const web = track(
          serveWebApp({
            host: o.host,
            port: webPort,
            gatewayUrl,
            rpcUrl: node.rpcUrl,
            logFile: path.join(logsDir, "web.log"),
          }),
        );
        shutdown.add("web app", () => web.stop());
        webUrl = await web.ready;
      } catch (error) {
        if (hooks.signal?.aborted === true) throw error;
        webNote = `the web app did not start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }

    const stop = async () => {
      const failures = await shutdown.run();
      if (failures.length > 0) throw new Error(`stopping the local system:\n${failures.join("\n")}`);
    };
    return {
      rpcUrl: node.rpcUrl,
      gatewayUrl,
      webUrl,
      webNote,
      chainId: node.chainId,
      contracts,
      homes: specs.map((s) => localHomes.get(s.name)!),
      controllers: controllers.map((c): LocalController => ({
        id: c.id,
        url: c.url,
        address: c.wallet.address as `0x${string}`,
      })),
      clock: clock.config,
      simulatedStartMs,
      firstBilledMonth: monthName(simulatedStartMs),
      market: {
        intervalSeconds: Number(marketParameters.intervalSeconds),
        gateClosureSeconds: Number(marketParameters.gateClosureSeconds),
        settlementDelaySeconds: Number(marketParameters.settlementDelaySeconds),
        realSecondsPerInterval: o.interval,
      },
      operatorToken: utilityFiles.operatorToken,
      secureId: secureId.kind,
      dataDir,
      logsDir,
      startupMs: Math.round(performance.now() - startedAt),
      stop,
    };
  } catch (error) {
    await shutdown.run();
    throw error;
  }
}

function localHome(
  spec: HomeSpec,
  keys: { meter: `0x${string}`; deviceId: string; dir: string },
  owner: Wallet,
  commandsUrl: string,
  delegation: Delegation | undefined,
  logFile: string,
): LocalHome {
  return {
    name: spec.name,
    index: spec.index,
    owner: owner.address as `0x${string}`,
    ownerAccount: spec.ownerAccount,
    ownerPrivateKey: owner.privateKey,
    meter: keys.meter,
    deviceId: keys.deviceId,
    customerAccount: spec.customerAccount,
    controller: spec.controller,
    commandPort: Number(new URL(commandsUrl).port),
    commandsUrl,
    autoTrading: delegation !== undefined,
    delegation,
    solarPeakW: spec.solarPeakW,
    baseLoadW: spec.baseLoadW,
    battery: spec.battery,
    dir: keys.dir,
    logFile,
  };
}
