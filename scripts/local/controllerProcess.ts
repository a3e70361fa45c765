import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { encryptKeystoreJson } from "ethers";

import type { ControllerConfigInput } from "../../gateway/src/microgrid/controllerConfig.js";
import { MARKET_INTERVAL_SECONDS, type LogLevel } from "./localOptions.js";
import { listeningUrl, ManagedProcess } from "./managedProcess.js";
import type { SimulatedClock } from "./simulatedClock.js";
import { sha256Hex } from "./utilityFleet.js";

const CONTROLLER_MAIN = path.resolve(import.meta.dirname, "../../gateway/src/microgrid/controllerMain.ts");
const PASSPHRASE = "gridmesh local controller key";

export interface StartControllerParameters {
  dir: string;
  logsDir: string;
  id: string;
  host: string;
  port: number;
  /** Its signing key: every agent of its microgrid obeys commands signed with it. */
  wallet: { address: string; privateKey: string };
  meters: { meter: string; url: string; battery: boolean }[];
  /** The utility's health URL: the controller reduces demand when it cannot reach it. */
  healthUrl: string;
  /** The bearer token the utility sends; the controller keeps only its digest. */
  token: string;
  chainId: number;
  clock: SimulatedClock;
  logLevel: LogLevel;
}

/**
 * A microgrid controller process (`gateway/src/microgrid/controllerMain.ts`, as `npm run controller
 * -w gateway` runs it): polls its meters' agents every market interval with signed commands, keeps
 * hourly usage files for the utility, and shares energy between their batteries.
 */
export async function startController(p: StartControllerParameters): Promise<ManagedProcess<string>> {
  await mkdir(p.dir, { recursive: true });
  const keystore = await encryptKeystoreJson(
    { address: p.wallet.address, privateKey: p.wallet.privateKey },
    PASSPHRASE,
    { scrypt: { N: 1024 } },
  );
  await writeFile(path.join(p.dir, "key.json"), keystore, { mode: 0o600 });
  await writeFile(path.join(p.dir, "passphrase"), PASSPHRASE, { mode: 0o600 });
  const config: ControllerConfigInput = {
    controllerId: p.id,
    dataDir: "data",
    http: { host: p.host, port: p.port },
    utility: {
      healthUrl: p.healthUrl,
      tokenSha256: sha256Hex(p.token),
      // In simulated ms: a probe every five minutes, offline after fifteen without contact. The
      // defaults (30 s, 2 min) would probe the gateway several times a second at 60×.
      checkEveryMs: 300_000,
      offlineAfterMs: 900_000,
    },
    key: { keystore: "key.json", passphraseFile: "passphrase" },
    chainId: p.chainId,
    meters: p.meters,
    dataIntervalSeconds: MARKET_INTERVAL_SECONDS,
    clock: p.clock.config,
    log: { level: p.logLevel },
  };
  const configFile = path.join(p.dir, "controller.json");
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const controller = new ManagedProcess<string>({
    name: `controller ${p.id}`,
    args: [
      "--disable-warning=ExperimentalWarning",
      "--import",
      "tsx",
      CONTROLLER_MAIN,
      "--config",
      configFile,
    ],
    logFile: path.join(p.logsDir, `controller-${p.id}.log`),
    ready: listeningUrl,
  });
  return controller;
}
