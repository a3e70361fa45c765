import { z } from "zod";

/** The market interval the contracts are deployed with: fifteen simulated minutes. */
export const MARKET_INTERVAL_SECONDS = 900;
/** Most homes the local system runs: each is an agent process and a serial line. */
export const MAX_HOMES = 40;
/**
 * Shortest real interval: gate closure (a sixth of it) must leave the gateway time to index the
 * block past the gate, clear, and have its transaction mined before the interval starts.
 */
export const MIN_INTERVAL_REAL_SECONDS = 6;
/** Longest: the simulated clock must run faster than the wall clock to stay ahead of it. */
export const MAX_INTERVAL_REAL_SECONDS = 300;

const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace"]);
export type LogLevel = z.infer<typeof logLevel>;

const host = z.union([z.ipv4(), z.ipv6(), z.literal("localhost")], {
  error: "must be an IP address or localhost",
});
const port = z.coerce.number().int().min(0).max(65_535);

/**
 * What `startLocalSystem` is asked for; `npm start`'s flags parse into the same object, so the CLI
 * and in-process callers (the end-to-end tests) are validated alike.
 */
export const localSystemOptionsSchema = z.object({
  /** Simulated homes, each a meter agent on its own simulated serial meter. */
  homes: z.coerce.number().int().min(1).max(MAX_HOMES).default(12),
  /** Real seconds per fifteen-minute market interval: 15 runs the system at 60×. */
  interval: z.coerce
    .number()
    .min(MIN_INTERVAL_REAL_SECONDS, {
      error: `must be at least ${MIN_INTERVAL_REAL_SECONDS} (gate closure is a sixth of it and must leave the gateway time to clear)`,
    })
    .max(MAX_INTERVAL_REAL_SECONDS, {
      error: `must be at most ${MAX_INTERVAL_REAL_SECONDS} (the simulated clock must run faster than real time)`,
    })
    .default(15),
  host: host.default("127.0.0.1"),
  /** JSON-RPC port of the Hardhat node; 0 picks a free one. */
  port: port.default(8545),
  gatewayPort: port.default(8080),
  webPort: port.default(3000),
  /** Serve the web app (when web/ can be built). */
  web: z.boolean().default(true),
  /** Emptied at each start: each start is a new chain. */
  dataDir: z.string().min(1).default(".gridmesh/local"),
  /** Secure ID on the real Fabric network (scripts/fabric) instead of the embedded ledger. */
  fabric: z.boolean().default(false),
  /** Simulated time at start (Unix ms); default two hours before the next month's end (UTC). */
  startAtMs: z.number().int().positive().optional(),
  /** Log level of every process the system starts. */
  logLevel: logLevel.default("info"),
});

export type LocalSystemOptions = z.input<typeof localSystemOptionsSchema>;
export type ResolvedLocalSystemOptions = z.output<typeof localSystemOptionsSchema>;

export class LocalOptionsError extends Error {
  override readonly name = "LocalOptionsError";
}

/** Validates options, naming each bad one by its `npm start` flag. */
export function resolveLocalSystemOptions(input: LocalSystemOptions): ResolvedLocalSystemOptions {
  const parsed = localSystemOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const flag = (p: PropertyKey[]) => `--${String(p[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new LocalOptionsError(
      `invalid options: ${parsed.error.issues.map((i) => `${flag(i.path)}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

/** The contracts' timing: fifteen-minute intervals, gate closure a sixth before, settlement within two. */
export const marketParameters = {
  intervalSeconds: BigInt(MARKET_INTERVAL_SECONDS),
  gateClosureSeconds: BigInt(MARKET_INTERVAL_SECONDS / 6),
  settlementDelaySeconds: BigInt(2 * MARKET_INTERVAL_SECONDS),
};
