import { ApiError } from "../apiError.js";
import { defineRoute } from "../route.js";

export const healthRoute = defineRoute({
  method: "GET",
  path: "/v1/health",
  tag: "service",
  summary: "Whether the gateway can reach its database, which engine it is and its schema version",
  response: "Health",
  errors: [503],
  async handle({ deps }) {
    try {
      const { rows } = await deps.db.query<{ version: number | null }>(
        "SELECT max(version) AS version FROM schema_migrations",
      );
      return { ok: true, engine: deps.db.engine, schemaVersion: rows[0]?.version ?? null };
    } catch (error) {
      deps.logger.warn({ err: error }, "health check could not reach the database");
      throw new ApiError(503, `database (${deps.db.engine}) is unavailable`);
    }
  },
});

export const deploymentRoute = defineRoute({
  method: "GET",
  path: "/v1/deployment",
  tag: "service",
  summary: "The chain id, the system's contract addresses and the market's interval timing",
  description: "What a wallet app or an auditor needs to read the same contracts the gateway serves.",
  response: "Deployment",
  errors: [503],
  handle({ deps }) {
    const d = deps.deployment;
    if (d === undefined) throw new ApiError(503, "this process serves no market (utility only)");
    const lower = (a: string | undefined) => (a === undefined ? null : a.toLowerCase());
    return Promise.resolve({
      chainId: Number(d.chainId),
      contracts: {
        energyMarket: d.contracts.energyMarket.toLowerCase(),
        deliveryLedger: d.contracts.deliveryLedger.toLowerCase(),
        meterRegistry: d.contracts.meterRegistry.toLowerCase(),
        forwardMarket: lower(d.contracts.forwardMarket),
        optionMarket: lower(d.contracts.optionMarket),
      },
      market: {
        intervalSeconds: d.market.intervalSeconds.toString(),
        gateClosureSeconds: d.market.gateClosureSeconds.toString(),
        settlementDelaySeconds: d.market.settlementDelaySeconds.toString(),
      },
    });
  },
});
