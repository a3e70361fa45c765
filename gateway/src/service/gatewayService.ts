import { readFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";

import { Contract, NonceManager, type Provider, type Signer, Wallet } from "ethers";

import type { AttestationSigner } from "@gridmesh/chaincode/client";
import {
  type Address,
  deliveryLedgerAbi,
  deliveryLedgerDomain,
  energyMarketAbi,
  forwardMarketAbi,
  meterRegistryAbi,
  meterReadingTypes,
  meterRegistryDomain,
  mutableTypes,
  optionMarketAbi,
} from "@gridmesh/contracts";

import { createApiHandler } from "../api/apiHandler.js";
import { readMarketTiming, type MarketTiming } from "../chain/marketTiming.js";
import { TransactionSender } from "../chain/transactionSender.js";
import { GatewayError } from "../common/errors.js";
import { listen } from "../common/listen.js";
import type { Logger } from "../common/logger.js";
import type { GatewayConfig } from "../config/config.js";
import { startIdentityService, type IdentityService } from "../identity/index.js";
import { ChainIndexer, createIndexerProvider, loadOrderBook } from "../indexer/index.js";
import { ClearingStore } from "../market/clearingStore.js";
import { ClearingSubmitter } from "../market/clearingSubmitter.js";
import { ReadingIntake } from "../relay/readingIntake.js";
import { registryActivity } from "../relay/registryActivity.js";
import { type SignerRecovery, workerSignerRecovery } from "../relay/signerRecovery.js";
import { BatchSettler } from "../settlement/batchSettler.js";
import { DeliveryScheduler } from "../settlement/deliveryScheduler.js";
import { ReadingRelay } from "../settlement/readingRelay.js";
import { createDatabase, type DatabaseTarget } from "../store/createDatabase.js";
import type { Database } from "../store/database.js";
import { migrate } from "../store/migrate.js";
import { TaskLoop } from "./loops.js";
import { UtilityParts, type UtilityPartsSetup } from "./utilityParts.js";

export interface GatewayServiceParameters {
  config: GatewayConfig;
  logger: Logger;
  /** Defaults to a JSON-RPC provider on config.chain.rpcUrl; tests pass Hardhat's in-process one. */
  provider?: Provider;
  /** Defaults to the configured keystore; tests pass a funded signer. Absent: read-only gateway. */
  signer?: Signer;
  /** Defaults to the configured database; tests may use memory. */
  database?: DatabaseTarget;
  /** Unix seconds now; defaults to the later of the wall clock and the chain's latest block. */
  now?: () => Promise<bigint>;
  /** Start the periodic loop (default true); tests drive `runOnce` themselves. */
  autoRun?: boolean;
  /** Verifier attestation keys by MSP id instead of the configured keystores (tests: Hardhat's signers). */
  attestationKeys?: ReadonlyMap<string, AttestationSigner>;
  /** The utility's side (seed 000 §2.2) in this process; absent: the market alone. */
  utility?: UtilityPartsSetup;
}

/**
 * The gateway process: one store, one chain connection, the HTTP API, and the loop that indexes
 * the chain, clears each interval before it starts, relays readings to the ledger, and settles
 * what has ended. Each part is usable alone; this only wires them in the order they depend on.
 */
export class GatewayService {
  readonly db: Database;
  readonly timing: MarketTiming;
  readonly loop: TaskLoop;
  readonly utility: UtilityParts | undefined;
  readonly identity: IdentityService;
  readonly #server: Server;
  readonly #recovery: SignerRecovery;
  readonly #logger: Logger;
  #url = "";

  private constructor(
    db: Database,
    timing: MarketTiming,
    loop: TaskLoop,
    identity: IdentityService,
    recovery: SignerRecovery,
    server: Server,
    logger: Logger,
    utility: UtilityParts | undefined,
  ) {
    this.#recovery = recovery;
    this.utility = utility;
    this.db = db;
    this.timing = timing;
    this.loop = loop;
    this.identity = identity;
    this.#server = server;
    this.#logger = logger;
  }

  get url(): string {
    return this.#url;
  }

  static async start(p: GatewayServiceParameters): Promise<GatewayService> {
    const { config, logger } = p;
    // No response cache: a cached block would hide a reorg from the indexer.
    const provider = p.provider ?? createIndexerProvider(config.chain.rpcUrl);
    const signer =
      p.signer ?? (config.signer === undefined ? undefined : await openKeystore(config.signer, provider));
    const contracts = config.chain.contracts;
    const chainId = (await provider.getNetwork()).chainId;
    // One nonce counter for every transaction the gateway sends, whichever task sends it.
    const runner = signer === undefined ? provider : new NonceManager(signer);
    const market = new Contract(contracts.energyMarket, energyMarketAbi, runner);
    const ledger = new Contract(contracts.deliveryLedger, deliveryLedgerAbi, runner);
    const timing = await readMarketTiming(market);

    const db = await createDatabase({ database: p.database ?? config.database, logger });
    let identity: IdentityService | undefined;
    let recovery: SignerRecovery | undefined;
    try {
      await migrate(db, { logger });
      const now =
        p.now ??
        (async () => {
          const block = await provider.getBlock("latest");
          const wall = BigInt(Math.floor(Date.now() / 1000));
          return block !== null && BigInt(block.timestamp) > wall ? BigInt(block.timestamp) : wall;
        });
      const loop = new TaskLoop(config.chain.pollMs, logger);
      const indexer = new ChainIndexer({
        db,
        provider,
        contracts,
        confirmations: config.chain.confirmations,
        startBlock: config.chain.startBlock,
        logger: logger.child({ part: "indexer" }),
      });
      loop.add("index", () => indexer.syncOnce());

      // One sender for every task's transactions: one queue for the one key keeps nonces in order.
      const sender =
        signer === undefined
          ? undefined
          : new TransactionSender({ confirmations: config.chain.confirmations });
      identity = await startIdentityService({
        config: config.identity,
        db,
        registry: new Contract(contracts.meterRegistry, meterRegistryAbi, runner),
        registryDomain: meterRegistryDomain(chainId, contracts.meterRegistry as Address),
        sender,
        logger: logger.child({ part: "identity" }),
        ...(p.attestationKeys === undefined ? {} : { attestationKeys: p.attestationKeys }),
      });
      const eventLog = identity.eventLog;
      loop.add("identity-events", () => eventLog.ensureRunning());

      if (sender === undefined) {
        logger.warn("no gateway key configured: indexing and serving only, nothing is cleared or settled");
      } else {
        const clearings = new ClearingStore(db);
        const submitter = new ClearingSubmitter({
          market,
          timing,
          store: clearings,
          sender,
          loadBook: (t) => loadOrderBook(db, t),
          head: async () => {
            const block = await provider.getBlock("latest");
            if (block === null) throw new GatewayError("the chain has no latest block", { retryable: true });
            return { number: BigInt(block.number), timestamp: BigInt(block.timestamp) };
          },
          now,
          batchSize: config.market.clearingBatchSize,
          logger: logger.child({ part: "clearing" }),
        });
        loop.add("clear", async () => {
          const next = (await now()) / timing.intervalSeconds + 1n;
          const steps: Record<string, string> = {};
          for (const t of new Set([...(await clearings.unfinished()), next]))
            steps[t.toString()] = await submitter.step(t);
          return steps;
        });
        const relay = new ReadingRelay({
          db,
          ledger,
          batchSize: config.market.readingsBatchSize,
          confirmations: config.chain.confirmations,
          logger: logger.child({ part: "relay" }),
        });
        loop.add("relay", () => relay.step());
        const settler = new BatchSettler({ db, market, timing, clearings, sender, now, logger });
        loop.add("settle", () => settler.step());
        for (const [kind, addressOf, abi] of [
          ["forward", contracts.forwardMarket, forwardMarketAbi],
          ["option", contracts.optionMarket, optionMarketAbi],
        ] as const) {
          if (addressOf === undefined) continue;
          const scheduler = new DeliveryScheduler({
            market: new Contract(addressOf, abi, runner),
            kind,
            timing,
            sender,
            now,
            logger: logger.child({ part: kind }),
          });
          loop.add(`${kind}-deliveries`, () => scheduler.step());
        }
      }

      recovery = workerSignerRecovery(
        deliveryLedgerDomain(chainId, contracts.deliveryLedger as Address),
        mutableTypes(meterReadingTypes),
      );
      const intake = new ReadingIntake({
        db,
        chainId,
        ledger: contracts.deliveryLedger as Address,
        intervalSeconds: Number(timing.intervalSeconds),
        activity: registryActivity(contracts.meterRegistry as Address, provider),
        recovery,
      });
      const utility =
        p.utility === undefined
          ? undefined
          : await UtilityParts.create({
              db,
              clock: p.utility.clock,
              logger,
              recovery,
              config: { ...p.utility, marketIntervalSeconds: Number(timing.intervalSeconds) },
            });
      const handler = createApiHandler({
        db,
        intake,
        identity,
        operatorTokenSha256: config.operatorTokenSha256,
        corsOrigins: config.http.corsOrigins,
        deployment: { chainId, contracts, market: timing },
        status: async () => ({
          tasks: loop.status(),
          timing: stringify(timing),
          ...(utility !== undefined && { utility: await utility.status() }),
        }),
        ...(p.utility !== undefined && { clock: p.utility.clock }),
        logger: logger.child({ part: "api" }),
      });
      const server = createServer(handler);
      const service = new GatewayService(db, timing, loop, identity, recovery, server, logger, utility);
      service.#url = await listen(server, config.http.host, config.http.port);
      if (p.autoRun ?? true) {
        loop.start();
        utility?.start();
      }
      logger.info({ url: service.#url, read_only: signer === undefined }, "gateway started");
      return service;
    } catch (e) {
      await identity?.close();
      await recovery?.close();
      await db.close();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.utility?.stop();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await this.identity.close();
    await this.#recovery.close();
    await this.db.close();
    this.#logger.info("gateway stopped");
  }
}

async function openKeystore(
  signer: NonNullable<GatewayConfig["signer"]>,
  provider: Provider,
): Promise<Signer> {
  let json: string;
  let passphrase: string;
  try {
    [json, passphrase] = await Promise.all([
      readFile(signer.keystoreFile, "utf8"),
      readFile(signer.passphraseFile, "utf8").then((s) => s.replace(/\r?\n$/, "")),
    ]);
  } catch (e) {
    throw new GatewayError(`cannot read the gateway key: ${(e as Error).message}`, { cause: e });
  }
  try {
    return (await Wallet.fromEncryptedJson(json, passphrase)).connect(provider);
  } catch (e) {
    throw new GatewayError(`cannot decrypt ${signer.keystoreFile}: wrong passphrase or not a v3 keystore`, {
      cause: e,
    });
  }
}

function stringify(timing: MarketTiming): Record<string, string> {
  return Object.fromEntries(Object.entries(timing).map(([k, v]: [string, bigint]) => [k, v.toString()]));
}
