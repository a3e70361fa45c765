/**
 * The one place that reads the environment for the Fabric network scripts: where the network lives,
 * which ports it uses and where the built Fabric binaries are cached.
 */
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface FabricOptions {
  /** Directory holding crypto, configs, ledgers, pid files and logs. Default `<repo>/.fabric`. */
  home?: string;
  /** First port of the block the network listens on (see topology.ts). Default 7050. */
  portBase?: number;
  /** Progress lines; default: stderr. */
  log?: (message: string) => void;
}

export interface FabricConfig {
  repoRoot: string;
  home: string;
  /** Asked for by option or environment; undefined: the network's own (state.json) or the default. */
  portBase: number | undefined;
  /** `~/.cache/gridmesh` or its overrides, shared with scripts/bootstrap.mjs. */
  cacheRoot: string;
  log: (message: string) => void;
}

export const DEFAULT_PORT_BASE = 7050;
/** The highest port the topology uses is below base + this span. */
export const PORT_SPAN = 100;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function parsePortBase(raw: string | number, source: string): number {
  const value = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(value) || value < 1024 || value + PORT_SPAN > 65_535) {
    throw new Error(`${source} must be an integer from 1024 to ${65_535 - PORT_SPAN}, got ${String(raw)}`);
  }
  // Hardhat's JSON-RPC node (npm start) owns 8545.
  if (value <= 8545 && 8545 < value + PORT_SPAN) {
    throw new Error(
      `${source}=${value} would overlap 8545 (the Hardhat node); pick a base outside 8446..8545`,
    );
  }
  return value;
}

export function resolveConfig(
  options: FabricOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): FabricConfig {
  const home = path.resolve(options.home ?? env.GRIDMESH_FABRIC_HOME ?? path.join(repoRoot, ".fabric"));
  const portBase =
    options.portBase !== undefined
      ? parsePortBase(options.portBase, "portBase")
      : env.GRIDMESH_FABRIC_PORT_BASE
        ? parsePortBase(env.GRIDMESH_FABRIC_PORT_BASE, "GRIDMESH_FABRIC_PORT_BASE")
        : undefined;
  const cacheRoot =
    env.GRIDMESH_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "gridmesh");
  const log = options.log ?? ((message: string) => process.stderr.write(`[fabric] ${message}\n`));
  return { repoRoot, home, portBase, cacheRoot: path.resolve(cacheRoot), log };
}
