/**
 * `npm start`: the local GridMesh system on one machine: a Hardhat JSON-RPC node on loopback
 * with every contract deployed through the GridMesh Ignition module on a compressed clock, and the
 * gateway (embedded database) indexing, clearing and settling against it. Ctrl-C (SIGINT) or
 * SIGTERM stops everything.
 *
 *   npm start -- [--host 127.0.0.1] [--port 8545] [--gateway-port 8080] [--interval 60]
 *                [--data-dir .gridmesh/local] [--fabric]
 *
 * Device identities (Secure ID) run on the same chaincode in process by default; `--fabric` brings up
 * the real Fabric network (scripts/fabric) and uses it instead.
 */
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";

import hre from "hardhat";
import { z } from "zod";

import { createLogger } from "../gateway/src/common/logger.js";
import { fabricDown, fabricUp } from "./fabric/network.js";
import { loadGatewayConfig } from "../gateway/src/config/config.js";
import { createIndexerProvider } from "../gateway/src/indexer/index.js";
import { GatewayService } from "../gateway/src/service/gatewayService.js";
import GridMeshModule from "../ignition/modules/GridMesh.js";

const optionsSchema = z.object({
  host: z.union([z.ipv4(), z.ipv6(), z.literal("localhost")], {
    error: "--host must be an IP address or localhost",
  }),
  port: z.coerce.number().int().min(1).max(65_535),
  gatewayPort: z.coerce.number().int().min(0).max(65_535),
  /** Trading interval in seconds: compressed for a live demo (the contracts' default is 900). */
  interval: z.coerce.number().int().min(6).max(86_400),
  dataDir: z.string().min(1),
  fabric: z.boolean(),
});

export type StartOptions = z.infer<typeof optionsSchema>;

function parseOptions(argv: string[]): StartOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8545" },
      "gateway-port": { type: "string", default: "8080" },
      interval: { type: "string", default: "60" },
      "data-dir": { type: "string", default: ".gridmesh/local" },
      fabric: { type: "boolean", default: false },
    },
    strict: true,
  });
  const parsed = optionsSchema.safeParse({
    host: values.host,
    port: values.port,
    gatewayPort: values["gateway-port"],
    interval: values.interval,
    dataDir: values["data-dir"],
    fabric: values.fabric,
  });
  if (!parsed.success) {
    const flag = (p: PropertyKey[]) => `--${String(p[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new Error(
      `invalid options: ${parsed.error.issues.map((i) => `${flag(i.path)}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

/** Fails early with a clear message instead of a stack trace from deep inside the node. */
async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE"
          ? new Error(
              `${host}:${port} is already in use (another ${what} running?); stop it or pass another port`,
            )
          : err,
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** The market clock for an interval of `interval` seconds: gate closure a sixth before, settlement within two intervals. */
function marketParameters(interval: number) {
  return {
    intervalSeconds: BigInt(interval),
    gateClosureSeconds: BigInt(Math.max(1, Math.floor(interval / 6))),
    settlementDelaySeconds: BigInt(2 * interval),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await assertPortFree(options.host, options.port, "node");
  if (options.gatewayPort !== 0) await assertPortFree(options.host, options.gatewayPort, "gateway");
  // Each start is a brand-new chain, so whatever the gateway stored about the last one is void.
  const dataDir = path.resolve(options.dataDir);
  await rm(dataDir, { recursive: true, force: true });

  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });

  const server = await hre.network.createServer("node", options.host, options.port);
  const { address, port } = await server.listen();
  const hostForUrl = address.includes(":") ? `[${address}]` : address;
  const rpcUrl = `http://${hostForUrl}:${port}`;

  // Filled in once started; a signal before then stops only what exists.
  const running: { gateway?: GatewayService; fabric?: boolean } = {};
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal} received, stopping\n`);
    await running.gateway?.stop();
    // Stopped, not purged: the network's identities are there for the next start.
    if (running.fabric) await fabricDown();
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", (s) => void stop(s));
  process.on("SIGTERM", (s) => void stop(s));

  const connection = await hre.network.create({ network: "localhost", override: { url: rpcUrl } });
  const chainId = await connection.ethers.provider.getNetwork().then((n) => n.chainId);
  // The node we just started has a brand-new chain, so any Ignition journal kept for this chain id
  // describes a chain that no longer exists; deploying on top of it would skip every contract.
  await rm(path.join(hre.config.paths.ignition, "deployments", `chain-${chainId}`), {
    recursive: true,
    force: true,
  });
  const deployed = await connection.ignition.deploy(GridMeshModule, {
    parameters: { GridMesh: marketParameters(options.interval) },
  });
  const contracts = Object.fromEntries(
    await Promise.all(
      Object.entries(deployed).map(async ([name, contract]) => [name, await contract.getAddress()] as const),
    ),
  );
  await connection.close();

  let identityLedger: Record<string, string> = {
    GRIDMESH_SECURE_ID: "embedded",
    GRIDMESH_SECURE_ID_FILE: path.join(dataDir, "secure-id.sqlite"),
  };
  if (options.fabric) {
    process.stdout.write("Starting the Fabric network (the first time builds it: a few minutes)…\n");
    running.fabric = true;
    await fabricUp();
    const home = process.env.GRIDMESH_FABRIC_HOME ?? path.resolve(import.meta.dirname, "..", ".fabric");
    identityLedger = {
      GRIDMESH_SECURE_ID: "fabric",
      GRIDMESH_FABRIC_PROFILE: path.join(home, "network.json"),
    };
  }

  // The gateway signs as the deployer, which the local module made matcher; the node holds its key.
  // The local module's verifier organisations are Hardhat accounts 17–19, which attest in process.
  const provider = createIndexerProvider(rpcUrl);
  const attestationKeys = new Map(
    await Promise.all(
      ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"].map(
        async (msp, i) => [msp, await provider.getSigner(17 + i)] as const,
      ),
    ),
  );
  const config = loadGatewayConfig({
    ...process.env,
    GRIDMESH_HTTP_HOST: options.host,
    GRIDMESH_HTTP_PORT: String(options.gatewayPort),
    GRIDMESH_RPC_URL: rpcUrl,
    GRIDMESH_DATA_DIR: path.join(dataDir, "gateway-db"),
    GRIDMESH_ENERGY_MARKET: contracts.energyMarket,
    GRIDMESH_DELIVERY_LEDGER: contracts.deliveryLedger,
    GRIDMESH_METER_REGISTRY: contracts.meterRegistry,
    GRIDMESH_FORWARD_MARKET: contracts.forwardMarket,
    GRIDMESH_OPTION_MARKET: contracts.optionMarket,
    GRIDMESH_LOG_LEVEL: process.env.GRIDMESH_LOG_LEVEL ?? "warn",
    ...identityLedger,
  });
  const gateway = await GatewayService.start({
    config,
    logger: createLogger({ level: config.logLevel }),
    provider,
    signer: await provider.getSigner(0),
    attestationKeys,
  });
  running.gateway = gateway;
  if (stopping) await gateway.stop();

  const label = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
  const lines = [
    "",
    "GridMesh local system is running",
    `  JSON-RPC          ${rpcUrl}  (chain id ${chainId})`,
    `  Gateway API       ${gateway.url}  (OpenAPI: ${gateway.url}/v1/openapi.json)`,
    `  Interval          ${options.interval} s`,
    `  Secure ID         ${options.fabric ? "Fabric network (scripts/fabric)" : "embedded ledger"}`,
    ...Object.entries(contracts).map(([name, address]) => `  ${label(name).padEnd(16)}  ${address}`),
    "",
    "Accounts are Hardhat's default development accounts (never use them on a real network).",
    "Press Ctrl-C to stop.",
    "",
  ];
  process.stdout.write(lines.join("\n"));
  await server.afterClosed();
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
