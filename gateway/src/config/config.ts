import { dirname, join } from "node:path";

import { z } from "zod";

import { ConfigError } from "../common/errors.js";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);
const mspId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a Fabric MSP id");

/** `Verifier1MSP=/path/a,Verifier2MSP=/path/b`: one file per verifier organisation. */
const filesByMsp = z.string().transform((text, ctx) => {
  const files: Record<string, string> = {};
  for (const entry of text.split(",").map((e) => e.trim())) {
    if (entry === "") continue;
    const match = /^([^=\s]+)=(.+)$/.exec(entry);
    if (match === null || !mspId.safeParse(match[1]).success) {
      ctx.addIssue({ code: "custom", message: `"${entry}" is not MSP=file` });
    } else if (match[1]! in files) {
      ctx.addIssue({ code: "custom", message: `${match[1]} is given twice` });
    } else {
      files[match[1]!] = match[2]!.trim();
    }
  }
  return files;
});

/**
 * Secure ID: the ledger the utility organisation's client uses, and the verifier organisations whose
 * attestors run in this process (each with its Ethereum key in an encrypted v3 keystore).
 */
const identitySchema = z
  .object({
    ownerMsp: mspId,
    ledger: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("embedded"), file: z.string().min(1) }),
      z.object({ kind: z.literal("fabric"), profile: z.string({ error: "is required for fabric" }).min(1) }),
    ]),
    verifierKeystores: filesByMsp,
    verifierPassphraseFiles: filesByMsp,
  })
  .superRefine((identity, ctx) => {
    const keystores = Object.keys(identity.verifierKeystores);
    const passphrases = Object.keys(identity.verifierPassphraseFiles);
    for (const msp of keystores.filter((m) => !passphrases.includes(m)))
      ctx.addIssue({
        code: "custom",
        path: ["verifierPassphraseFiles"],
        message: `no passphrase file for ${msp}`,
      });
    for (const msp of passphrases.filter((m) => !keystores.includes(m)))
      ctx.addIssue({ code: "custom", path: ["verifierKeystores"], message: `no keystore for ${msp}` });
    if (keystores.includes(identity.ownerMsp))
      ctx.addIssue({
        code: "custom",
        path: ["verifierKeystores"],
        message: `${identity.ownerMsp} is the owner organisation, not a verifier`,
      });
  })
  .transform(({ ownerMsp, ledger, verifierKeystores, verifierPassphraseFiles }) => ({
    ownerMsp,
    ledger,
    verifiers: Object.entries(verifierKeystores).map(([msp, keystoreFile]) => ({
      mspId: msp,
      keystoreFile,
      passphraseFile: verifierPassphraseFiles[msp]!,
    })),
  }));

/**
 * The gateway's configuration, read once at start from the environment. Nothing else in the
 * gateway reads `process.env`. The market's timing is not configured: it is read from the
 * contracts, so the two can never disagree.
 */
/** What every GridMesh server process (gateway, utility) is configured with. */
const serverConfigSchema = z.object({
  http: z.object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(0).max(65_535),
    /** Origins whose pages may call the API from a browser (the web app's), comma-separated. */
    corsOrigins: z
      .string()
      .transform((list) =>
        list
          .split(",")
          .map((o) => o.trim())
          .filter((o) => o !== ""),
      )
      .pipe(
        z.array(
          z
            .union([z.literal("*"), z.url({ error: "must be an origin like https://app.example.org or *" })])
            .refine(
              (o) => o === "*" || new URL(o).origin === o,
              "must be an origin: scheme://host[:port], no path or trailing slash",
            ),
        ),
      ),
  }),
  database: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("embedded"), dataDir: z.string().min(1) }),
    z.object({ kind: z.literal("postgres"), url: z.url({ protocol: /^postgres(ql)?$/ }) }),
  ]),
  /** SHA-256 (hex) of the bearer token operator endpoints require; without it they are disabled. */
  operatorTokenSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits (sha256 of the token)")
    .optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
});

const configSchema = serverConfigSchema.extend({
  chain: z.object({
    rpcUrl: z.url({ protocol: /^(https?|wss?)$/, error: "must be an http(s) or ws(s) URL" }),
    /** Blocks an event must be buried under before the indexer treats it as final. */
    confirmations: z.coerce.number().int().min(0).max(1_000),
    /** The block the contracts were deployed in: the indexer starts there. */
    startBlock: z.coerce.bigint().min(0n, "must be a block number"),
    /** How often the gateway's loops (index, clear, relay, settle) run. */
    pollMs: positiveInt(600_000),
    contracts: z.object({
      energyMarket: address,
      deliveryLedger: address,
      meterRegistry: address,
      forwardMarket: address.optional(),
      optionMarket: address.optional(),
    }),
  }),
  /**
   * The gateway's own Ethereum key (matcher and relayer), as an encrypted v3 keystore. Without one
   * the gateway runs read-only: it indexes and serves, but clears and settles nothing.
   */
  signer: z
    .object({
      keystoreFile: z.string().min(1),
      passphraseFile: z.string().min(1),
    })
    .optional(),
  market: z.object({
    /** Fills per submitClearing transaction. */
    clearingBatchSize: positiveInt(2_000),
    /** Readings per meter per recordReadings transaction. */
    readingsBatchSize: positiveInt(500),
  }),
  identity: identitySchema,
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Environment variables the gateway understands that have defaults. */
export const gatewayEnvDefaults = {
  GRIDMESH_HTTP_HOST: "127.0.0.1",
  GRIDMESH_HTTP_PORT: "8080",
  GRIDMESH_RPC_URL: "http://127.0.0.1:8545",
  GRIDMESH_CONFIRMATIONS: "0",
  GRIDMESH_POLL_MS: "1000",
  GRIDMESH_START_BLOCK: "0",
  GRIDMESH_DATA_DIR: ".gridmesh/gateway-db",
  GRIDMESH_CLEARING_BATCH_SIZE: "250",
  GRIDMESH_READINGS_BATCH_SIZE: "50",
  GRIDMESH_SECURE_ID: "embedded",
  GRIDMESH_SECURE_ID_ORG: "UtilityMSP",
  GRIDMESH_LOG_LEVEL: "info",
} as const;

/** The server part of the configuration, as every process reads it from the environment. */
function serverEnv(env: Record<string, string | undefined>) {
  const get = (name: keyof typeof gatewayEnvDefaults) => env[name] ?? gatewayEnvDefaults[name];
  const set = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);
  const databaseUrl = set("GRIDMESH_DATABASE_URL");
  return {
    get,
    set,
    raw: {
      http: {
        host: get("GRIDMESH_HTTP_HOST"),
        port: get("GRIDMESH_HTTP_PORT"),
        corsOrigins: set("GRIDMESH_CORS_ORIGINS") ?? "",
      },
      database:
        databaseUrl === undefined
          ? { kind: "embedded", dataDir: get("GRIDMESH_DATA_DIR") }
          : { kind: "postgres", url: databaseUrl },
      operatorTokenSha256: set("GRIDMESH_OPERATOR_TOKEN_SHA256"),
      logLevel: get("GRIDMESH_LOG_LEVEL"),
    },
  };
}

function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${envNameOf(issue.path)}: ${issue.message}`));
  }
  return parsed.data;
}

/** HTTP, store, operator token and log level: what a utility-only process needs besides its own part. */
export function loadServerConfig(env: Record<string, string | undefined>): ServerConfig {
  return parseWith(serverConfigSchema, serverEnv(env).raw);
}

export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const { get, set, raw: server } = serverEnv(env);
  const keystoreFile = set("GRIDMESH_KEYSTORE_FILE");
  const passphraseFile = set("GRIDMESH_KEYSTORE_PASSPHRASE_FILE");
  const raw = {
    ...server,
    chain: {
      rpcUrl: get("GRIDMESH_RPC_URL"),
      confirmations: get("GRIDMESH_CONFIRMATIONS"),
      startBlock: get("GRIDMESH_START_BLOCK"),
      pollMs: get("GRIDMESH_POLL_MS"),
      contracts: {
        energyMarket: set("GRIDMESH_ENERGY_MARKET"),
        deliveryLedger: set("GRIDMESH_DELIVERY_LEDGER"),
        meterRegistry: set("GRIDMESH_METER_REGISTRY"),
        forwardMarket: set("GRIDMESH_FORWARD_MARKET"),
        optionMarket: set("GRIDMESH_OPTION_MARKET"),
      },
    },
    signer:
      keystoreFile === undefined && passphraseFile === undefined
        ? undefined
        : { keystoreFile, passphraseFile },
    market: {
      clearingBatchSize: get("GRIDMESH_CLEARING_BATCH_SIZE"),
      readingsBatchSize: get("GRIDMESH_READINGS_BATCH_SIZE"),
    },
    identity: {
      ownerMsp: get("GRIDMESH_SECURE_ID_ORG"),
      ledger:
        get("GRIDMESH_SECURE_ID") === "fabric"
          ? { kind: "fabric", profile: set("GRIDMESH_FABRIC_PROFILE") }
          : {
              kind: get("GRIDMESH_SECURE_ID"),
              // Beside the embedded database's directory, not inside it: that one is PGlite's own.
              file:
                set("GRIDMESH_SECURE_ID_FILE") ?? join(dirname(get("GRIDMESH_DATA_DIR")), "secure-id.sqlite"),
            },
      verifierKeystores: set("GRIDMESH_VERIFIER_KEYSTORES") ?? "",
      verifierPassphraseFiles: set("GRIDMESH_VERIFIER_PASSPHRASE_FILES") ?? "",
    },
  };
  return parseWith(configSchema, raw);
}

const envNames: Record<string, string> = {
  "http.host": "GRIDMESH_HTTP_HOST",
  "http.port": "GRIDMESH_HTTP_PORT",
  "http.corsOrigins": "GRIDMESH_CORS_ORIGINS",
  "chain.rpcUrl": "GRIDMESH_RPC_URL",
  "chain.confirmations": "GRIDMESH_CONFIRMATIONS",
  "chain.startBlock": "GRIDMESH_START_BLOCK",
  "chain.pollMs": "GRIDMESH_POLL_MS",
  "chain.contracts.energyMarket": "GRIDMESH_ENERGY_MARKET",
  "chain.contracts.deliveryLedger": "GRIDMESH_DELIVERY_LEDGER",
  "chain.contracts.meterRegistry": "GRIDMESH_METER_REGISTRY",
  "chain.contracts.forwardMarket": "GRIDMESH_FORWARD_MARKET",
  "chain.contracts.optionMarket": "GRIDMESH_OPTION_MARKET",
  "signer.keystoreFile": "GRIDMESH_KEYSTORE_FILE",
  "signer.passphraseFile": "GRIDMESH_KEYSTORE_PASSPHRASE_FILE",
  "database.dataDir": "GRIDMESH_DATA_DIR",
  "database.url": "GRIDMESH_DATABASE_URL",
  "market.clearingBatchSize": "GRIDMESH_CLEARING_BATCH_SIZE",
  "market.readingsBatchSize": "GRIDMESH_READINGS_BATCH_SIZE",
  operatorTokenSha256: "GRIDMESH_OPERATOR_TOKEN_SHA256",
  "identity.ownerMsp": "GRIDMESH_SECURE_ID_ORG",
  "identity.ledger.kind": "GRIDMESH_SECURE_ID",
  "identity.ledger.file": "GRIDMESH_SECURE_ID_FILE",
  "identity.ledger.profile": "GRIDMESH_FABRIC_PROFILE",
  "identity.verifierKeystores": "GRIDMESH_VERIFIER_KEYSTORES",
  "identity.verifierPassphraseFiles": "GRIDMESH_VERIFIER_PASSPHRASE_FILES",
  logLevel: "GRIDMESH_LOG_LEVEL",
};

/** Reports problems by the variable the operator sets, not by our internal field names. */
function envNameOf(path: PropertyKey[]): string {
  // A bad list element (corsOrigins.1) is reported by its list's variable.
  const key = path
    .filter((p) => typeof p !== "number")
    .map(String)
    .join(".");
  return envNames[key] ?? key;
}
