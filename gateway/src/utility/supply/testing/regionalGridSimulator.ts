import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

import { listen } from "../../../common/listen.js";
import { purchaseRequestSchema, REGIONAL_GRID_API, simulatedGrant } from "../regionalGridApi.js";
import type { SupplyStatus } from "../supplyStatus.js";

/** Ways the simulated feed can misbehave, to test that the utility never mistakes them for NORMAL. */
export type SimulatedFault = "unavailable" | "malformed" | "stall";

export interface RegionalGridSimulatorOptions {
  supply: SupplyStatus;
  maxGrantWh?: bigint;
  /** Bearer token the simulator requires; none when absent. */
  token?: string;
  host?: string;
  port?: number;
}

export interface RegionalGridSimulator {
  url: string;
  supply: SupplyStatus;
  maxGrantWh: bigint | undefined;
  /** Set to make every answer fail that way; undefined answers normally. */
  fault: SimulatedFault | undefined;
  /** Every purchase answered, oldest first. */
  readonly purchases: { requestedWh: bigint; grantedWh: bigint; supply: SupplyStatus }[];
  /** Requests received, answered or not. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * A regional grid on a real loopback socket speaking `regionalGridApi.ts`, for tests and drills.
 * Its supply, grant limit and faults are plain fields a test sets between rounds.
 */
export async function startRegionalGridSimulator(
  options: RegionalGridSimulatorOptions,
): Promise<RegionalGridSimulator> {
  let requests = 0;
  const stalled = new Set<ServerResponse>();
  const sim = {
    url: "",
    supply: options.supply,
    maxGrantWh: options.maxGrantWh,
    fault: undefined as SimulatedFault | undefined,
    purchases: [] as RegionalGridSimulator["purchases"],
    get requests() {
      return requests;
    },
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return send(res, 401, { error: "missing or wrong bearer token" });
    }
    switch (sim.fault) {
      case "unavailable":
        return send(res, 503, { error: "supply desk unavailable" });
      case "malformed":
        return send(res, 200, { supply: "SOMEWHAT_LOW" });
      case "stall":
        stalled.add(res);
        return;
      case undefined:
        break;
    }
    if (req.method === "GET" && req.url === REGIONAL_GRID_API.supply)
      return send(res, 200, { supply: sim.supply });
    if (req.method === "POST" && req.url === REGIONAL_GRID_API.purchases) {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(res, 400, { error: "body is not JSON" });
      }
      const parsed = purchaseRequestSchema.safeParse(body);
      if (!parsed.success) return send(res, 400, { error: parsed.error.message });
      const requestedWh = BigInt(parsed.data.wh);
      const grantedWh = simulatedGrant(sim.supply, requestedWh, sim.maxGrantWh);
      sim.purchases.push({ requestedWh, grantedWh, supply: sim.supply });
      return send(res, 200, { grantedWh: grantedWh.toString(), supply: sim.supply });
    }
    return send(res, 404, { error: `no route ${req.method} ${req.url}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  sim.url = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  return sim;
}
