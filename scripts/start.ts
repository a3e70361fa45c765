/**
 * `npm start`: the local GridMesh system on one machine. At this stage: a Hardhat JSON-RPC node on
 * loopback with every contract deployed through the GridMesh Ignition module. Ctrl-C (SIGINT) or
 * SIGTERM stops it cleanly.
 *
 *   npm start -- [--host 127.0.0.1] [--port 8545]
 */
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";

import hre from "hardhat";
import { z } from "zod";

import GridMeshModule from "../ignition/modules/GridMesh.js";

const optionsSchema = z.object({
  host: z.union([z.ipv4(), z.ipv6(), z.literal("localhost")], {
    error: "--host must be an IP address or localhost",
  }),
  port: z.coerce.number().int().min(1).max(65_535),
});

export type StartOptions = z.infer<typeof optionsSchema>;

function parseOptions(argv: string[]): StartOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8545" },
    },
    strict: true,
  });
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    throw new Error(
      `invalid options: ${parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

/** Fails early with a clear message instead of a stack trace from deep inside the node. */
async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`${host}:${port} is already in use (another node running?); stop it or pass --port`)
          : err,
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await assertPortFree(options.host, options.port);

  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });

  const server = await hre.network.createServer("node", options.host, options.port);
  const { address, port } = await server.listen();
  const hostForUrl = address.includes(":") ? `[${address}]` : address;
  const rpcUrl = `http://${hostForUrl}:${port}`;

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal} received, stopping\n`);
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
  const deployed = await connection.ignition.deploy(GridMeshModule);
  const contracts = await Promise.all(
    Object.entries(deployed).map(async ([name, contract]) => [name, await contract.getAddress()] as const),
  );
  await connection.close();

  const label = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
  const lines = [
    "",
    "GridMesh local system is running",
    `  JSON-RPC          ${rpcUrl}  (chain id ${chainId})`,
    ...contracts.map(([name, address]) => `  ${label(name).padEnd(16)}  ${address}`),
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
