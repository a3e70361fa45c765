import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";

import type { Address, Clock } from "@gridmesh/contracts";

import { createLogger } from "../../common/logger.js";
import { ReadingIntake } from "../../relay/readingIntake.js";
import { migrate, type Database } from "../../store/index.js";
import { createApiHandler } from "../apiHandler.js";
import { insertFixtures } from "./apiFixtures.js";

export const OPERATOR_TOKEN = "operator-token-for-tests";
export const CHAIN_ID = 31337n;
export const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
export const INTERVAL_SECONDS = 900;
/** The deployment the test API serves (mixed-case addresses: the API answers them lower-case). */
export const DEPLOYMENT = {
  chainId: CHAIN_ID,
  contracts: {
    energyMarket: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    deliveryLedger: LEDGER,
    meterRegistry: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  },
  market: {
    intervalSeconds: BigInt(INTERVAL_SECONDS),
    gateClosureSeconds: 150n,
    settlementDelaySeconds: 1800n,
  },
};
/** What the service's status callback answers; bigints must reach the client as strings. */
export const SERVICE_STATUS = { tasks: { clearing: { runs: 3n, lastError: null } }, intervalSeconds: 900 };

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export interface ApiServer {
  url: string;
  call(path: string, init?: RequestInit): Promise<ApiResponse>;
  /** Log records the handler wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** The real handler on a real listening socket, with its logs captured. */
export async function startApiServer(
  db: Database,
  options: { operator: boolean; corsOrigins?: string[]; clock?: Clock },
): Promise<ApiServer> {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line !== "") logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  const intake = new ReadingIntake({
    db,
    chainId: CHAIN_ID,
    ledger: LEDGER,
    intervalSeconds: INTERVAL_SECONDS,
    // The registry is the chain's business: every meter counts as active here.
    activity: { activeThroughout: () => Promise.resolve(true) },
  });
  const handler = createApiHandler({
    db,
    intake,
    ...(options.operator
      ? { operatorTokenSha256: createHash("sha256").update(OPERATOR_TOKEN).digest("hex") }
      : {}),
    corsOrigins: options.corsOrigins,
    deployment: DEPLOYMENT,
    status: () => Promise.resolve(SERVICE_STATUS),
    logger,
    ...(options.clock !== undefined && { clock: options.clock }),
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    logs,
    async call(path, init) {
      const res = await fetch(url + path, init);
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, body, text };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A migrated database holding the fixtures; returns the schema version it reached. */
export async function prepareDatabase(db: Database): Promise<number> {
  const { version } = await migrate(db, { logger: createLogger({ level: "silent" }) });
  await insertFixtures(db);
  return version;
}
