import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";

import { z } from "zod";

import { AgentError } from "../common/agentError.js";
import { AUTO_TRADER_DEFAULTS } from "../trading/autoTrader.js";

export class AgentConfigError extends AgentError {
  override readonly name = "AgentConfigError";
}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");
const port = z.number().int().min(0).max(65535);

const sdmSource = z.strictObject({
  kind: z.literal("sdm"),
  /** Serial device, e.g. /dev/ttyUSB0. */
  path: z.string().min(1),
  baudRate: z.number().int().positive().default(9600),
  slave: z.number().int().min(1).max(247).default(1),
  model: z.enum(["SDM120", "SDM630"]).default("SDM120"),
  timeoutMs: z.number().int().positive().default(500),
  retries: z.number().int().min(0).max(10).default(2),
});

const simulatedSource = z.strictObject({
  kind: z.literal("simulated"),
  /** When the simulated registers stood at their start values (Unix ms). */
  originMs: z.number().int().nonnegative(),
  startImportWh: z.number().nonnegative().default(0),
  startExportWh: z.number().nonnegative().default(0),
  solarPeakW: z.number().nonnegative().default(4000),
  baseLoadW: z.number().nonnegative().default(300),
});

/**
 * The name the store tracks an uplink's deliveries under: changing it makes the renamed uplink a
 * new one (it gets the readings still pending, then every new one). "controller" is the pull
 * uplink's; "v1" marks readings an agent of the one-uplink era gave up on.
 */
const uplinkName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be 1-32 lower-case letters, digits, - or _")
  .refine((n) => n !== "controller" && n !== "v1", "is reserved");

const uplink = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("gateway"),
    name: uplinkName.default("gateway"),
    url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    batchSize: z.number().int().min(1).max(1000).default(100),
    timeoutMs: z.number().int().positive().default(10_000),
  }),
  z.strictObject({
    kind: z.literal("chain"),
    name: uplinkName.default("chain"),
    rpcUrl: z.url({ protocol: /^(https?|wss?)$/, error: "must be an http(s) or ws(s) URL" }),
    batchSize: z.number().int().min(1).max(200).default(50),
    confirmations: z.number().int().min(1).default(1),
  }),
  /** Pull only: the microgrid controller fetches readings with commands and acknowledges them. */
  z.strictObject({ kind: z.literal("controller") }),
]);

export type UplinkConfig = z.infer<typeof uplink>;

/** The store name of an uplink: its `name`, or "controller" for the pull uplink. */
export function uplinkNameOf(u: UplinkConfig): string {
  return u.kind === "controller" ? "controller" : u.name;
}

/**
 * Automatic trading for the meter's owner (seed 002's transaction matchmaker), within the
 * delegation the owner gave this meter's address on the EnergyMarket (see trading/).
 */
const trading = z.strictObject({
  /** Off keeps the section (and the owner's delegation) but places nothing. */
  enabled: z.boolean().default(true),
  /** The EnergyMarket. */
  market: address,
  rpcUrl: z.url({ protocol: /^(https?|wss?)$/, error: "must be an http(s) or ws(s) URL" }),
  /** The account that owns the meter, authorised this meter's address and pays for its orders. */
  owner: address,
  /** Trade for the interval this many after the current one (later if its gate has closed). */
  intervalsAhead: z.number().int().min(1).max(96).default(AUTO_TRADER_DEFAULTS.intervalsAhead),
  /** How many recent readings the forecast averages. */
  lookbackIntervals: z.number().int().min(1).max(96).default(AUTO_TRADER_DEFAULTS.lookbackIntervals),
  /** A forecast surplus or deficit smaller than this places nothing. */
  minOrderWh: z.number().int().min(1).default(AUTO_TRADER_DEFAULTS.minOrderWh),
  confirmations: z.number().int().min(1).default(AUTO_TRADER_DEFAULTS.confirmations),
  /** How long to wait for an order's transaction before looking again at the next run. */
  timeoutMs: z.number().int().positive().default(AUTO_TRADER_DEFAULTS.timeoutMs),
  /** After a run failed (RPC unreachable, …), when to try again within the same interval. */
  retryMs: z.number().int().positive().default(AUTO_TRADER_DEFAULTS.retryMs),
});

export type TradingConfig = z.infer<typeof trading>;

export const agentConfigSchema = z
  .strictObject({
    /** Where the reading store lives; relative paths are from the config file's folder. */
    dataDir: z.string().min(1),
    key: z
      .strictObject({
        keystore: z.string().min(1),
        passphraseFile: z.string().min(1).optional(),
        passphraseEnv: z.string().min(1).optional(),
        /** scrypt cost for `init`; 2^17 unless a test lowers it. */
        scryptN: z.number().int().min(2).default(131072),
      })
      .refine((k) => (k.passphraseFile === undefined) !== (k.passphraseEnv === undefined), {
        message: "give exactly one of passphraseFile or passphraseEnv",
      }),
    /** The EIP-712 domain readings are signed for. */
    chain: z.strictObject({ chainId: z.number().int().positive(), ledger: address }),
    intervalSeconds: z.number().int().min(1).max(86_400),
    /** How late after a boundary a sample still counts as taken at it; default a tenth of the interval. */
    boundaryToleranceMs: z.number().int().positive().optional(),
    source: z.discriminatedUnion("kind", [sdmSource, simulatedSource]),
    /** Where readings go: one uplink (`uplink`) or several (`uplinks`), each delivered independently. */
    uplink: uplink.optional(),
    uplinks: z.array(uplink).min(1, "name at least one uplink").max(8).optional(),
    trading: trading.optional(),
    /** Retry pacing of the forwarder after a failed delivery (doubling, with jitter). */
    forwarding: z
      .strictObject({
        minBackoffMs: z.number().int().positive().default(1000),
        maxBackoffMs: z.number().int().positive().default(60_000),
      })
      .default({ minBackoffMs: 1000, maxBackoffMs: 60_000 }),
    commands: z
      .strictObject({
        host: z.string().default("127.0.0.1"),
        port,
        controllers: z.array(address).min(1, "name at least one controller address"),
      })
      .optional(),
    battery: z
      .strictObject({
        /** Topology configuration file (make_battery / make_aggregator / make_splitter). */
        topology: z.string().min(1),
        /** The battery of the topology this home uses. */
        name: z.string().min(1),
        /**
         * The gateway's battery-report endpoint (e.g. http://gateway:8080/v1/battery-reports): every
         * battery of the topology is reported, signed, at each interval boundary.
         */
        reportUrl: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
      })
      .optional(),
    /** Serves the home battery to other nodes (networked BAL), e.g. the microgrid controller. */
    batteryServer: z
      .strictObject({
        host: z.string().default("127.0.0.1"),
        port,
        clients: z
          .array(
            z
              .strictObject({
                keyId: z.string().min(1),
                secretEnv: z.string().min(1).optional(),
                secretFile: z.string().min(1).optional(),
              })
              .refine((c) => (c.secretEnv === undefined) !== (c.secretFile === undefined), {
                message: "give exactly one of secretEnv or secretFile",
              }),
          )
          .min(1, "name at least one client"),
      })
      .optional(),
    /** Simulated time for demos and tests: `speed` times faster than the wall clock from `originMs`. */
    clock: z
      .strictObject({ originMs: z.number().int().nonnegative(), speed: z.number().positive() })
      .optional(),
    /** The device's Secure ID identity (docs/SECURE_ID.md), managed with `gridmesh-agent identity …`. */
    identity: z
      .strictObject({
        /** The sealed ed25519 device key; `device-key.json` beside the meter keystore when absent. */
        deviceKey: z.string().min(1).optional(),
        /** The gateway whose identity API provisions, seals and verifies the device (its base URL). */
        gateway: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
        timeoutMs: z.number().int().positive().default(60_000),
      })
      .default({ timeoutMs: 60_000 }),
    log: z
      .strictObject({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      })
      .default({ level: "info" }),
  })
  .superRefine((c, ctx) => {
    if ((c.uplink === undefined) === (c.uplinks === undefined)) {
      ctx.addIssue({ code: "custom", path: ["uplinks"], message: "give exactly one of uplink or uplinks" });
    }
    const names = (c.uplinks ?? []).map(uplinkNameOf);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        ctx.addIssue({
          code: "custom",
          path: ["uplinks", i],
          message: `a second uplink named "${name}": give each its own \`name\``,
        });
    });
    if (c.batteryServer !== undefined && c.battery === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["batteryServer"],
        message: "serves the home battery: configure `battery` too",
      });
    }
  });

type ParsedAgentConfig = z.infer<typeof agentConfigSchema>;

/**
 * The configuration with every path absolute, the device key's path always set, and the uplinks
 * always as a list (a single `uplink` becomes a list of one).
 */
export type AgentConfig = Omit<ParsedAgentConfig, "identity" | "uplink" | "uplinks"> & {
  configDir: string;
  identity: ParsedAgentConfig["identity"] & { deviceKey: string };
  uplinks: UplinkConfig[];
};

/** Validates a parsed configuration; paths inside it are resolved against `configDir`. */
export function parseAgentConfig(json: unknown, configDir: string): AgentConfig {
  const parsed = agentConfigSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new AgentConfigError(`invalid meter agent configuration:\n${lines.join("\n")}`);
  }
  const { uplink, uplinks, ...c } = parsed.data;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const keystore = at(c.key.keystore);
  return {
    ...c,
    uplinks: uplinks ?? [uplink!],
    configDir,
    dataDir: at(c.dataDir),
    key: {
      ...c.key,
      keystore,
      passphraseFile: c.key.passphraseFile === undefined ? undefined : at(c.key.passphraseFile),
    },
    identity: {
      ...c.identity,
      deviceKey:
        c.identity.deviceKey === undefined
          ? join(dirname(keystore), "device-key.json")
          : at(c.identity.deviceKey),
    },
    battery: c.battery === undefined ? undefined : { ...c.battery, topology: at(c.battery.topology) },
    batteryServer:
      c.batteryServer === undefined
        ? undefined
        : {
            ...c.batteryServer,
            clients: c.batteryServer.clients.map((k) => ({
              ...k,
              secretFile: k.secretFile === undefined ? undefined : at(k.secretFile),
            })),
          },
  };
}

export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new AgentConfigError(
      `cannot read the configuration ${path}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AgentConfigError(`the configuration ${path} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseAgentConfig(json, dirname(resolve(path)));
}
