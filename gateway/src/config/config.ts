import { z } from "zod";

import { ConfigError } from "../common/errors.js";

/**
 * The gateway's configuration, read once at start from the environment. Nothing else in the
 * gateway reads `process.env`.
 */
const configSchema = z.object({
  http: z.object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(0).max(65_535),
  }),
  chain: z.object({
    rpcUrl: z.url({ protocol: /^(https?|wss?)$/, error: "must be an http(s) or ws(s) URL" }),
    /** Blocks an event must be buried under before the indexer treats it as final. */
    confirmations: z.coerce.number().int().min(0).max(1_000),
  }),
  database: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("embedded"), dataDir: z.string().min(1) }),
    z.object({ kind: z.literal("postgres"), url: z.url({ protocol: /^postgres(ql)?$/ }) }),
  ]),
  market: z.object({
    intervalSeconds: z.coerce.number().int().min(1).max(86_400),
    gateClosureSeconds: z.coerce.number().int().min(0),
  }),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
});

export type GatewayConfig = z.infer<typeof configSchema>;

/** Environment variables the gateway understands, with their defaults. */
export const gatewayEnvDefaults = {
  GRIDMESH_HTTP_HOST: "127.0.0.1",
  GRIDMESH_HTTP_PORT: "8080",
  GRIDMESH_RPC_URL: "http://127.0.0.1:8545",
  GRIDMESH_CONFIRMATIONS: "0",
  GRIDMESH_DATA_DIR: ".gridmesh/gateway-db",
  GRIDMESH_INTERVAL_SECONDS: "900",
  GRIDMESH_GATE_CLOSURE_SECONDS: "60",
  GRIDMESH_LOG_LEVEL: "info",
} as const;

export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const get = (name: keyof typeof gatewayEnvDefaults) => env[name] ?? gatewayEnvDefaults[name];
  const databaseUrl = env.GRIDMESH_DATABASE_URL;
  const raw = {
    http: { host: get("GRIDMESH_HTTP_HOST"), port: get("GRIDMESH_HTTP_PORT") },
    chain: { rpcUrl: get("GRIDMESH_RPC_URL"), confirmations: get("GRIDMESH_CONFIRMATIONS") },
    database:
      databaseUrl === undefined || databaseUrl === ""
        ? { kind: "embedded", dataDir: get("GRIDMESH_DATA_DIR") }
        : { kind: "postgres", url: databaseUrl },
    market: {
      intervalSeconds: get("GRIDMESH_INTERVAL_SECONDS"),
      gateClosureSeconds: get("GRIDMESH_GATE_CLOSURE_SECONDS"),
    },
    logLevel: get("GRIDMESH_LOG_LEVEL"),
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${envNameOf(issue.path)}: ${issue.message}`));
  }
  const config = parsed.data;
  if (config.market.gateClosureSeconds >= config.market.intervalSeconds) {
    throw new ConfigError([
      `GRIDMESH_GATE_CLOSURE_SECONDS: must be shorter than the interval (${config.market.intervalSeconds} s)`,
    ]);
  }
  return config;
}

const envNames: Record<string, string> = {
  "http.host": "GRIDMESH_HTTP_HOST",
  "http.port": "GRIDMESH_HTTP_PORT",
  "chain.rpcUrl": "GRIDMESH_RPC_URL",
  "chain.confirmations": "GRIDMESH_CONFIRMATIONS",
  "database.dataDir": "GRIDMESH_DATA_DIR",
  "database.url": "GRIDMESH_DATABASE_URL",
  "market.intervalSeconds": "GRIDMESH_INTERVAL_SECONDS",
  "market.gateClosureSeconds": "GRIDMESH_GATE_CLOSURE_SECONDS",
  logLevel: "GRIDMESH_LOG_LEVEL",
};

/** Reports problems by the variable the operator sets, not by our internal field names. */
function envNameOf(path: PropertyKey[]): string {
  const key = path.map(String).join(".");
  return envNames[key] ?? key;
}
