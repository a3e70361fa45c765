import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { JsonRpcProvider, type Wallet } from "ethers";

import type { Address } from "@gridmesh/contracts";

import type { Battery } from "../bal/battery.js";
import { BatteryServer } from "../bal/network/batteryServer.js";
import { readSecret } from "../bal/network/readSecret.js";
import { CommandExecutor } from "../commands/commandExecutor.js";
import { CommandServer } from "../commands/commandServer.js";
import { readMeterState } from "../commands/meterState.js";
import type { Logger } from "../common/logger.js";
import { Mutex } from "../common/mutex.js";
import { BatteryPolicyLoop } from "../control/batteryPolicyLoop.js";
import { ChainUplink } from "../forward/chainUplink.js";
import { Forwarder } from "../forward/forwarder.js";
import { HttpUplink } from "../forward/httpUplink.js";
import type { Uplink } from "../forward/uplink.js";
import { type AgentClock, atClockTime, configuredClock, realClock } from "../readings/clock.js";
import { ReadingRecorder } from "../readings/readingRecorder.js";
import { BatteryReporter } from "../reporting/batteryReporter.js";
import { profileRegisterSource, type RegisterSource, sdmRegisterSource } from "../readings/registerSource.js";
import { homeProfile } from "../serial/homeProfile.js";
import { openSerialPort } from "../serial/openSerialPort.js";
import { SdmMeter } from "../serial/sdmMeter.js";
import { loadKeystore, readPassphrase } from "../signing/keystore.js";
import { ReadingSigner } from "../signing/readingSigner.js";
import { ReadingStore } from "../store/readingStore.js";
import { AutoTrader } from "../trading/autoTrader.js";
import { type AgentConfig, type UplinkConfig, uplinkNameOf } from "./agentConfig.js";
import { openAgentBattery } from "./agentBattery.js";

const DAY_MS = 86_400_000;

/** The parts of a running agent, built from its configuration. */
export interface AgentParts {
  store: ReadingStore;
  recorder: ReadingRecorder;
  source: RegisterSource;
  /** One per pushing uplink (gateway, chain), each with its own retries; the controller pulls. */
  forwarders: Forwarder[];
  clock: AgentClock;
  battery: Battery | undefined;
  policy: BatteryPolicyLoop | undefined;
  /** Reports the topology's batteries to the gateway, when configured. */
  reporter: BatteryReporter | undefined;
  commands: CommandServer | undefined;
  batteryServer: BatteryServer | undefined;
  /** Automatic trading within the owner's delegation, when configured and enabled. */
  trader: AutoTrader | undefined;
  /** Releases what the parts hold open (serial port, RPC connection). */
  close: () => Promise<void>;
}

/** Decrypts the meter's key; the passphrase is read, used and dropped here. */
export async function unlockMeterKey(config: AgentConfig): Promise<Wallet> {
  const passphrase = await readPassphrase({ file: config.key.passphraseFile, env: config.key.passphraseEnv });
  return loadKeystore(config.key.keystore, passphrase);
}

export function storePath(config: AgentConfig): string {
  return join(config.dataDir, "readings.db");
}

/**
 * The meter agent: at every interval boundary it reads the meter's registers, signs the interval's
 * reading, stores it durably, owed to each configured uplink, and hands it to the forwarders, which
 * deliver stored readings through outages (store-and-forward, seed 000 §2.1), each uplink on its own.
 */
export class MeterAgent {
  readonly #log: Logger;
  readonly #parts: AgentParts;
  #cancelTimer: (() => void) | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(log: Logger, parts: AgentParts) {
    this.#log = log;
    this.#parts = parts;
  }

  static async start(config: AgentConfig, log: Logger): Promise<MeterAgent> {
    const wallet = await unlockMeterKey(config);
    const parts = await buildParts(config, wallet, log);
    const agent = new MeterAgent(log, parts);
    log.info(
      {
        meter: wallet.address,
        uplinks: parts.store.uplinks,
        source: config.source.kind,
        intervalSeconds: config.intervalSeconds,
        pending: parts.store.counts().pending,
      },
      "meter agent started",
    );
    for (const f of parts.forwarders) f.start();
    if (parts.trader !== undefined) {
      log.info(
        { market: config.trading?.market, owner: config.trading?.owner },
        "automatic trading within the owner's delegation",
      );
      parts.trader.start();
    }
    parts.policy?.start();
    if (parts.commands !== undefined)
      log.info({ url: await parts.commands.listen() }, "controller commands accepted");
    if (parts.batteryServer !== undefined)
      log.info({ url: await parts.batteryServer.listen() }, "battery served");
    void parts.reporter?.report();
    agent.#collect();
    agent.#gcTimer = setInterval(() => agent.#collect(), DAY_MS).unref();
    agent.#schedule();
    return agent;
  }

  get store(): ReadingStore {
    return this.#parts.store;
  }

  /** The forwarders of the pushing uplinks, in configuration order. */
  get forwarders(): readonly Forwarder[] {
    return this.#parts.forwarders;
  }

  /** Where the home battery is served (networked BAL), when configured. */
  get batteryServerUrl(): string | undefined {
    return this.#parts.batteryServer?.url;
  }

  /** Where controller commands are accepted, when configured. */
  get commandsUrl(): string | undefined {
    return this.#parts.commands?.url;
  }

  get trader(): AutoTrader | undefined {
    return this.#parts.trader;
  }

  get batteryPolicy(): BatteryPolicyLoop | undefined {
    return this.#parts.policy;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#cancelTimer?.();
    clearInterval(this.#gcTimer);
    await this.#sampling;
    await this.#parts.reporter?.settle();
    await this.#parts.commands?.close();
    await this.#parts.batteryServer?.close();
    await this.#parts.policy?.stop();
    await this.#parts.trader?.stop();
    await Promise.all(this.#parts.forwarders.map((f) => f.stop()));
    await this.#parts.close();
    this.#parts.store.close();
    this.#log.info("meter agent stopped");
  }

  #schedule(): void {
    if (this.#stopped) return;
    const { clock, recorder } = this.#parts;
    // Not a plain setTimeout: one firing a moment early would sample before the boundary, and that
    // sample belongs to the interval before, a whole interval late.
    this.#cancelTimer = atClockTime(clock, recorder.nextBoundaryMs(clock.now()), () => {
      this.#sampling = this.#sample().finally(() => this.#schedule());
    });
  }

  async #sample(): Promise<void> {
    const { source, recorder, forwarders, reporter } = this.#parts;
    // Reported beside the reading, never in its way: the report does not hold up the next boundary.
    void reporter?.report();
    try {
      const outcome = await recorder.record(await source.read());
      if (outcome.kind === "recorded") {
        const r = outcome.reading.reading;
        this.#log.debug(
          {
            interval: r.interval.toString(),
            sequence: r.sequence.toString(),
            importedWh: (r.importEndWh - r.importStartWh).toString(),
            exportedWh: (r.exportEndWh - r.exportStartWh).toString(),
          },
          "reading stored",
        );
        for (const f of forwarders) f.notify();
      } else if (outcome.kind === "anchored" && outcome.reason !== "first") {
        this.#log.warn(
          { interval: outcome.interval.toString(), reason: outcome.reason },
          "readings restart at this boundary",
        );
      } else if (outcome.kind === "skipped" && outcome.reason === "late") {
        this.#log.warn("boundary sample came too late; this interval gets no reading");
      }
    } catch (err) {
      // A failed read loses this interval's reading (the chain restarts at the next boundary); it
      // never produces a made-up one.
      this.#log.error({ err }, "could not take the boundary reading");
    }
  }

  #collect(): void {
    const removed = this.#parts.store.collectGarbage(Date.now());
    if (removed > 0) this.#log.info({ removed }, "collected delivered readings older than ten weeks");
  }
}

async function buildParts(config: AgentConfig, wallet: Wallet, log: Logger): Promise<AgentParts> {
  const meter = wallet.address as Address;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = ReadingStore.open(storePath(config), meter, { uplinks: config.uplinks.map(uplinkNameOf) });
  const clock = configuredClock(config.clock);
  const closers: (() => Promise<void>)[] = [];
  // The meter's own transactions (chain uplink, trader) share one connection per RPC URL and take
  // turns, so that two never pick the same nonce.
  const transactions = new Mutex();
  const providers = new Map<string, JsonRpcProvider>();
  const providerFor = (url: string) => {
    let provider = providers.get(url);
    if (provider === undefined) {
      const created = new JsonRpcProvider(url, config.chain.chainId, { staticNetwork: true });
      closers.push(() => Promise.resolve(created.destroy()));
      providers.set(url, (provider = created));
    }
    return provider;
  };
  try {
    const source = await openSource(config, clock, closers);
    const signer = new ReadingSigner(wallet, meter, {
      chainId: BigInt(config.chain.chainId),
      ledger: config.chain.ledger as Address,
    });
    const recorder = new ReadingRecorder({
      store,
      signer,
      intervalSeconds: config.intervalSeconds,
      toleranceMs: config.boundaryToleranceMs ?? (config.intervalSeconds * 1000) / 10,
    });
    const forwarders = config.uplinks.flatMap((u) => {
      const uplink = openUplink(u, config, (url) => wallet.connect(providerFor(url)), transactions);
      if (uplink === undefined) return [];
      const forwarderLog = log.child({ part: "forwarder", uplink: uplink.name });
      return [new Forwarder({ store, uplink, log: forwarderLog, ...config.forwarding })];
    });

    let battery: Battery | undefined;
    let policy: BatteryPolicyLoop | undefined;
    let reporter: BatteryReporter | undefined;
    if (config.battery !== undefined) {
      const home = await openAgentBattery(config.battery.topology, config.battery.name, clock);
      closers.push(() => home.close());
      battery = home.battery;
      if (config.battery.reportUrl !== undefined) {
        reporter = new BatteryReporter({
          url: config.battery.reportUrl,
          signer: wallet,
          meter,
          chainId: BigInt(config.chain.chainId),
          clock,
          states: () => home.states(),
          log: log.child({ part: "battery-report" }),
        });
      }
      policy = new BatteryPolicyLoop({
        battery,
        state: () => readMeterState(store),
        netPowerW: () => source.netPowerW(),
        clock,
        log: log.child({ part: "battery" }),
      });
    }
    const commands =
      config.commands === undefined
        ? undefined
        : new CommandServer({
            // Command expiry and delivery times are wall-clock matters even when readings run
            // on simulated time.
            executor: new CommandExecutor({
              store,
              battery,
              clock: realClock,
              onStateChange: () => policy?.notify(),
            }),
            chainId: BigInt(config.chain.chainId),
            controllers: config.commands.controllers as Address[],
            host: config.commands.host,
            port: config.commands.port,
            clock: realClock,
            log: log.child({ part: "commands" }),
          });
    const batteryServer =
      config.batteryServer === undefined || battery === undefined
        ? undefined
        : new BatteryServer({
            batteries: [battery],
            keys: Object.fromEntries(
              config.batteryServer.clients.map((c) => [
                c.keyId,
                { secret: readSecret(c, process.env, config.configDir) },
              ]),
            ),
            host: config.batteryServer.host,
            port: config.batteryServer.port,
            logger: log.child({ part: "battery-server" }),
          });
    const t = config.trading;
    const trader =
      t === undefined || !t.enabled
        ? undefined
        : new AutoTrader({
            store,
            wallet: wallet.connect(providerFor(t.rpcUrl)),
            market: t.market as Address,
            owner: t.owner as Address,
            clock,
            readingSeconds: config.intervalSeconds,
            log: log.child({ part: "trader" }),
            battery,
            intervalsAhead: t.intervalsAhead,
            lookbackIntervals: t.lookbackIntervals,
            minOrderWh: t.minOrderWh,
            confirmations: t.confirmations,
            timeoutMs: t.timeoutMs,
            retryMs: t.retryMs,
            transactions,
          });
    const close = async () => {
      for (const c of closers.reverse()) await c();
    };
    return {
      store,
      recorder,
      source,
      forwarders,
      clock,
      battery,
      policy,
      reporter,
      commands,
      batteryServer,
      trader,
      close,
    };
  } catch (e) {
    store.close();
    for (const c of closers.reverse()) await c();
    throw e;
  }
}

async function openSource(
  config: AgentConfig,
  clock: AgentClock,
  closers: (() => Promise<void>)[],
): Promise<RegisterSource> {
  const s = config.source;
  if (s.kind === "simulated") {
    return profileRegisterSource({
      profile: homeProfile({ solarPeakW: s.solarPeakW, baseLoadW: s.baseLoadW }),
      clock,
      originMs: s.originMs,
      startImportWh: s.startImportWh,
      startExportWh: s.startExportWh,
    });
  }
  const port = await openSerialPort(s.path, s.baudRate);
  closers.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  const meter = new SdmMeter({
    port,
    slave: s.slave,
    model: s.model,
    timeoutMs: s.timeoutMs,
    retries: s.retries,
    now: () => clock.now(),
  });
  return sdmRegisterSource(meter);
}

function openUplink(
  u: UplinkConfig,
  config: AgentConfig,
  meterOn: (rpcUrl: string) => Wallet,
  transactions: Mutex,
): Uplink | undefined {
  if (u.kind === "gateway")
    return new HttpUplink({ name: u.name, url: u.url, batchSize: u.batchSize, timeoutMs: u.timeoutMs });
  if (u.kind === "chain") {
    return new ChainUplink({
      name: u.name,
      wallet: meterOn(u.rpcUrl),
      ledger: config.chain.ledger as Address,
      batchSize: u.batchSize,
      confirmations: u.confirmations,
      transactions,
    });
  }
  return undefined;
}
