import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { startService, type ServiceProcess } from "../../helpers/serviceProcess.js";
import { CHAIN_ID, DELIVERY_LEDGER, INTERVAL_SECONDS } from "./meterAgentProcess.js";
import type { SimClock } from "./simClock.js";

const UTILITY_MAIN = fileURLToPath(new URL("../../../gateway/src/utilityMain.ts", import.meta.url));

export type SupplyStatus = "NORMAL" | "LOW" | "CRITICAL" | "EMPTY";

/** The utility's battery and purchasing (seed 000 §2.2.3), in watt-hours. */
export interface UtilitySupplySettings {
  capacityWh: bigint;
  initialChargeWh: bigint;
  /** One purchase at most this much: keeps the battery refilling round after round. */
  maxPurchaseWh: bigint;
}

export interface UtilityProcessParameters {
  dir: string;
  port: number;
  fleetFile: string;
  supplyFile: string;
  supply: UtilitySupplySettings;
  clock: SimClock;
}

/**
 * The real utility process (`gateway/src/utilityMain.ts`) on a fixed port and data directory, so
 * that it can be killed and started again as the same utility. Its operator API is reached with
 * the operator token.
 */
export class UtilityProcess {
  readonly url: string;
  readonly #p: UtilityProcessParameters;
  readonly #token = `operator-${randomBytes(24).toString("hex")}`;
  #service: ServiceProcess | undefined;
  #runs = 0;
  /** The output of earlier runs, for failure messages. */
  #earlier = "";

  constructor(p: UtilityProcessParameters) {
    this.#p = p;
    this.url = `http://127.0.0.1:${p.port}`;
  }

  get service(): ServiceProcess {
    if (this.#service === undefined) throw new Error("the utility has not been started");
    return this.#service;
  }

  async start(): Promise<void> {
    const p = this.#p;
    this.#service = startService({
      name: `utility (run ${++this.#runs})`,
      args: ["--disable-warning=ExperimentalWarning", "--import", "tsx", UTILITY_MAIN],
      env: {
        GRIDMESH_HTTP_PORT: String(p.port),
        GRIDMESH_DATA_DIR: join(p.dir, "utility-db"),
        GRIDMESH_OPERATOR_TOKEN_SHA256: createHash("sha256").update(this.#token).digest("hex"),
        GRIDMESH_LOG_LEVEL: "info",
        GRIDMESH_UTILITY_FLEET: p.fleetFile,
        GRIDMESH_CHAIN_ID: String(CHAIN_ID),
        GRIDMESH_DELIVERY_LEDGER: DELIVERY_LEDGER,
        GRIDMESH_READING_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
        GRIDMESH_CLOCK_ORIGIN_MS: String(p.clock.config.originMs),
        GRIDMESH_CLOCK_SPEED: String(p.clock.config.speed),
        GRIDMESH_UTILITY_SIGNATURE_WORKERS: "1",
        GRIDMESH_UTILITY_RECOVERY_CONCURRENCY: "8",
        GRIDMESH_SUPPLY_FEED_FILE: p.supplyFile,
        GRIDMESH_SUPPLY_BATTERY_WH: p.supply.capacityWh.toString(),
        GRIDMESH_SUPPLY_INITIAL_CHARGE_WH: p.supply.initialChargeWh.toString(),
        GRIDMESH_SUPPLY_MAX_PURCHASE_WH: p.supply.maxPurchaseWh.toString(),
        GRIDMESH_BILLING_TIME_ZONE: "UTC",
      },
    });
    await this.#service.started;
  }

  /** SIGKILL: the storm takes the utility down with no chance to finish anything. */
  async kill(): Promise<void> {
    await this.service.kill();
    this.#earlier += this.service.output();
  }

  async stop(): Promise<void> {
    await this.#service?.stop();
  }

  /** Every run's output so far, for failure messages. */
  output(): string {
    return this.#earlier + (this.#service?.output() ?? "");
  }

  /** Writes what the regional grid says; the utility reads it at its next Purchase_power round. */
  async setSupply(supply: SupplyStatus): Promise<void> {
    await writeFile(this.#p.supplyFile, JSON.stringify({ supply }));
  }

  async get<T>(path: string): Promise<T> {
    return this.#call<T>("GET", path);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.#call<T>("POST", path, body);
  }

  /** Every item of a paged operator list (`items` + `nextCursor`). */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page: { items: T[]; nextCursor: string | null } = await this.get(
        `${path}${sep}limit=500${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  }

  /** Export_all_data: the CIDB's NDJSON export, as its row lines per table. */
  async exportAll(): Promise<Map<string, Record<string, unknown>[]>> {
    const response = await fetch(`${this.url}/v1/operator/utility/export`, {
      headers: { authorization: `Bearer ${this.#token}` },
    });
    if (response.status !== 200)
      throw new Error(`the export answered ${response.status}: ${await response.text()}`);
    const tables = new Map<string, Record<string, unknown>[]>();
    let ended = false;
    for (const text of (await response.text()).split("\n")) {
      if (text === "") continue;
      const line = JSON.parse(text) as { type: string; table?: string; row?: Record<string, unknown> };
      if (line.type === "table") tables.set(line.table!, []);
      if (line.type === "row") tables.get(line.table!)!.push(line.row!);
      if (line.type === "end") ended = true;
    }
    if (!ended) throw new Error("the export was cut short: it has no end line");
    return tables;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}
