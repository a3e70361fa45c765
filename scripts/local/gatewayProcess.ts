import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { encryptKeystoreJson, Wallet } from "ethers";

import { MARKET_INTERVAL_SECONDS } from "./localOptions.js";
import type { ContractAddresses } from "./deployContracts.js";
import { DEPLOYER_ACCOUNT, devAccountKey, VERIFIER_ACCOUNTS, VERIFIER_MSPS } from "./devAccounts.js";
import { listeningUrl, ManagedProcess } from "./managedProcess.js";
import type { SimulatedClock } from "./simulatedClock.js";

const GATEWAY_MAIN = path.resolve(import.meta.dirname, "../../gateway/src/main.ts");
const KEY_PASSPHRASE = "gridmesh local development keys";

export type SecureIdLedger = { kind: "embedded"; file: string } | { kind: "fabric"; profile: string };

export interface StartGatewayParameters {
  dir: string;
  logsDir: string;
  host: string;
  port: number;
  rpcUrl: string;
  chainId: number;
  contracts: ContractAddresses;
  clock: SimulatedClock;
  secureId: SecureIdLedger;
  /** The utility's side: the fleet file, the regional supply feed and the operator token's digest. */
  utility: { fleetFile: string; supplyFile: string; operatorTokenSha256: string };
  /** How often the gateway's loops run (wall-clock ms): a compressed clock needs them often. */
  pollMs: number;
  logLevel: string;
}

/** Writes a development account's key as an encrypted keystore (cheap scrypt: these keys are public). */
async function writeDevKeystore(file: string, account: number): Promise<void> {
  const wallet = new Wallet(devAccountKey(account));
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    KEY_PASSPHRASE,
    { scrypt: { N: 1024 } },
  );
  await writeFile(file, json, { mode: 0o600 });
}

/**
 * The gateway as its own process (`gateway/src/main.ts`, as `npm start -w gateway` runs it), on its
 * embedded store, clearing and settling as the deployer (the local module's matcher), with the three
 * verifier organisations attesting in it and the utility (fleet, billing, supply) inside it on the
 * simulated clock.
 */
export async function startGateway(p: StartGatewayParameters): Promise<ManagedProcess<string>> {
  const keys = path.join(p.dir, "keys");
  await mkdir(keys, { recursive: true, mode: 0o700 });
  const passphraseFile = path.join(keys, "passphrase");
  await writeFile(passphraseFile, KEY_PASSPHRASE, { mode: 0o600 });
  const gatewayKey = path.join(keys, "gateway.json");
  await writeDevKeystore(gatewayKey, DEPLOYER_ACCOUNT);
  const verifierKeys = VERIFIER_MSPS.map((msp) => path.join(keys, `${msp}.json`));
  await Promise.all(verifierKeys.map((file, i) => writeDevKeystore(file, VERIFIER_ACCOUNTS[i]!)));
  const byMsp = (file: (i: number) => string) => VERIFIER_MSPS.map((msp, i) => `${msp}=${file(i)}`).join(",");

  const { contracts } = p;
  const env: NodeJS.ProcessEnv = {
    GRIDMESH_HTTP_HOST: p.host,
    GRIDMESH_HTTP_PORT: String(p.port),
    GRIDMESH_RPC_URL: p.rpcUrl,
    GRIDMESH_POLL_MS: String(p.pollMs),
    GRIDMESH_DATA_DIR: path.join(p.dir, "gateway-db"),
    GRIDMESH_ENERGY_MARKET: contracts.energyMarket,
    GRIDMESH_DELIVERY_LEDGER: contracts.deliveryLedger,
    GRIDMESH_METER_REGISTRY: contracts.meterRegistry,
    GRIDMESH_FORWARD_MARKET: contracts.forwardMarket,
    GRIDMESH_OPTION_MARKET: contracts.optionMarket,
    GRIDMESH_KEYSTORE_FILE: gatewayKey,
    GRIDMESH_KEYSTORE_PASSPHRASE_FILE: passphraseFile,
    GRIDMESH_VERIFIER_KEYSTORES: byMsp((i) => verifierKeys[i]!),
    GRIDMESH_VERIFIER_PASSPHRASE_FILES: byMsp(() => passphraseFile),
    ...(p.secureId.kind === "embedded"
      ? { GRIDMESH_SECURE_ID: "embedded", GRIDMESH_SECURE_ID_FILE: p.secureId.file }
      : { GRIDMESH_SECURE_ID: "fabric", GRIDMESH_FABRIC_PROFILE: p.secureId.profile }),
    GRIDMESH_OPERATOR_TOKEN_SHA256: p.utility.operatorTokenSha256,
    GRIDMESH_UTILITY_FLEET: p.utility.fleetFile,
    GRIDMESH_CHAIN_ID: String(p.chainId),
    GRIDMESH_READING_INTERVAL_SECONDS: String(MARKET_INTERVAL_SECONDS),
    GRIDMESH_CLOCK_ORIGIN_MS: String(p.clock.originMs),
    GRIDMESH_CLOCK_SPEED: String(p.clock.speed),
    // One thread for signatures: the machine also runs the chain, every agent and the web app.
    GRIDMESH_UTILITY_SIGNATURE_WORKERS: "1",
    GRIDMESH_BILLING_TIME_ZONE: "UTC",
    GRIDMESH_SUPPLY_FEED_FILE: p.utility.supplyFile,
    GRIDMESH_SUPPLY_BATTERY_WH: "2000000",
    GRIDMESH_SUPPLY_INITIAL_CHARGE_WH: "1200000",
    GRIDMESH_SUPPLY_MAX_PURCHASE_WH: "50000",
    GRIDMESH_LOG_LEVEL: p.logLevel,
  };
  const gateway = new ManagedProcess<string>({
    name: "gateway",
    args: ["--disable-warning=ExperimentalWarning", "--import", "tsx", GATEWAY_MAIN],
    env,
    logFile: path.join(p.logsDir, "gateway.log"),
    ready: listeningUrl,
    readyTimeoutMs: 120_000,
  });
  return gateway;
}
