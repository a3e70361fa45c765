import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import type { Address } from "@gridmesh/contracts";
import { encryptKeystoreJson, type HDNodeWallet } from "ethers";

import {
  CONTROLLER_API,
  type ControllerCommandInput,
  type ControllerCommandResponse,
  type ControllerStatus,
  type UsageHoursResponse,
} from "../../../gateway/src/microgrid/controllerApi.js";
import type { ControllerConfigInput } from "../../../gateway/src/microgrid/controllerConfig.js";
import { startService, type ServiceProcess } from "../../helpers/serviceProcess.js";
import { CHAIN_ID, INTERVAL_SECONDS } from "./meterAgentProcess.js";
import type { SimClock } from "./simClock.js";

const CONTROLLER_MAIN = fileURLToPath(
  new URL("../../../gateway/src/microgrid/controllerMain.ts", import.meta.url),
);
const PASSPHRASE = "use-case controller passphrase";

export type ControllerLocation = "residential" | "apartment" | "emergency";

export interface StartControllerParameters {
  dir: string;
  id: string;
  location: ControllerLocation;
  /** The controller's key; every agent of its microgrid lists its address. */
  wallet: HDNodeWallet;
  meters: { meter: Address; url: string; battery: boolean }[];
  /** Its HTTP port, known beforehand so that the utility's fleet can name its link before it runs. */
  port: number;
  /** The utility's health URL as the controller reaches it (through its network link). */
  healthUrl: string;
  /** The bearer token the utility sends; the controller keeps only its digest. */
  token: string;
  clock: SimClock;
}

/** A real microgrid controller process (`gateway/src/microgrid/controllerMain.ts`). */
export class ControllerProcess {
  readonly id: string;
  readonly location: ControllerLocation;
  readonly address: Address;
  readonly service: ServiceProcess;
  /** Its own URL, as the test reaches it directly (the utility goes through a link). */
  readonly url: string;
  readonly #token: string;

  private constructor(p: StartControllerParameters, service: ServiceProcess, url: string) {
    this.id = p.id;
    this.location = p.location;
    this.address = p.wallet.address as Address;
    this.service = service;
    this.url = url;
    this.#token = p.token;
  }

  static async start(p: StartControllerParameters): Promise<ControllerProcess> {
    await mkdir(p.dir, { recursive: true });
    const keystore = await encryptKeystoreJson(
      { address: p.wallet.address, privateKey: p.wallet.privateKey },
      PASSPHRASE,
      { scrypt: { N: 1024 } },
    );
    await writeFile(join(p.dir, "key.json"), keystore, { mode: 0o600 });
    await writeFile(join(p.dir, "passphrase"), PASSPHRASE, { mode: 0o600 });
    const config: ControllerConfigInput = {
      controllerId: p.id,
      dataDir: "data",
      http: { port: p.port },
      utility: {
        healthUrl: p.healthUrl,
        tokenSha256: createHash("sha256").update(p.token).digest("hex"),
        // A probe every five simulated minutes, offline after fifteen without contact: at a
        // thousand times real time the defaults would probe the utility dozens of times a second.
        checkEveryMs: 300_000,
        offlineAfterMs: 900_000,
      },
      key: { keystore: "key.json", passphraseFile: "passphrase" },
      chainId: CHAIN_ID,
      meters: p.meters.map((m) => ({ meter: m.meter, url: m.url, battery: m.battery })),
      dataIntervalSeconds: INTERVAL_SECONDS,
      clock: p.clock.config,
      log: { level: "info" },
    };
    const configPath = join(p.dir, "controller.json");
    await writeFile(configPath, JSON.stringify(config));
    const service = startService({
      name: `controller ${p.id}`,
      args: [
        "--disable-warning=ExperimentalWarning",
        "--import",
        "tsx",
        CONTROLLER_MAIN,
        "--config",
        configPath,
      ],
    });
    const url = await service.started.catch(async (error: unknown) => {
      await service.kill();
      throw error;
    });
    return new ControllerProcess(p, service, url);
  }

  /**
   * GET /v1/status. Any request with the utility's token counts as contact from the utility, so a
   * test must not ask while it plays the utility being offline.
   */
  async status(): Promise<ControllerStatus> {
    const response = await fetch(this.url + CONTROLLER_API.status, {
      headers: { authorization: `Bearer ${this.#token}` },
    });
    if (response.status !== 200)
      throw new Error(`controller ${this.id}: status answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as ControllerStatus;
  }

  /** POST /v1/commands: a utility command, as the utility sends it (the test holds its token). */
  async command(command: ControllerCommandInput): Promise<ControllerCommandResponse> {
    const response = await fetch(this.url + CONTROLLER_API.commands, {
      method: "POST",
      headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" },
      body: JSON.stringify(command),
    });
    if (response.status !== 200)
      throw new Error(
        `controller ${this.id}: ${command.command} answered ${response.status}: ${await response.text()}`,
      );
    return (await response.json()) as ControllerCommandResponse;
  }

  /** The usage hours the controller holds in [from, to] (hour names) with their reading counts. */
  async usageHours(from: string, to: string): Promise<Map<string, number>> {
    const query = new URLSearchParams({ from, to });
    const response = await fetch(`${this.url}${CONTROLLER_API.usageHours}?${query.toString()}`, {
      headers: { authorization: `Bearer ${this.#token}` },
    });
    if (response.status !== 200)
      throw new Error(
        `controller ${this.id}: usage hours answered ${response.status}: ${await response.text()}`,
      );
    const body = (await response.json()) as UsageHoursResponse;
    return new Map(body.hours.map((h) => [h.hour, h.readings]));
  }
}
