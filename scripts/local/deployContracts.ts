import { rm } from "node:fs/promises";
import path from "node:path";

import hre from "hardhat";

import GridMeshModule from "../../ignition/modules/GridMesh.js";
import { marketParameters } from "./localOptions.js";

const CONTRACT_NAMES = [
  "testDollar",
  "meterRegistry",
  "deliveryLedger",
  "reputation",
  "energyMarket",
  "indexOracle",
  "forwardMarket",
  "optionMarket",
] as const;

/** The deployed contracts' addresses by their Ignition names. */
export type ContractAddresses = Record<(typeof CONTRACT_NAMES)[number], `0x${string}`>;

/** Compiles the contracts if their sources changed; quick when nothing did. */
export async function buildContracts(): Promise<void> {
  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
}

/** Deploys the GridMesh Ignition module (with TestDollar) on the node at `rpcUrl`. */
export async function deployContracts(rpcUrl: string, chainId: number): Promise<ContractAddresses> {
  // The node is a brand-new chain, so any Ignition journal kept for this chain id describes a chain
  // that no longer exists; deploying on top of it would skip every contract.
  await rm(path.join(hre.config.paths.ignition, "deployments", `chain-${chainId}`), {
    recursive: true,
    force: true,
  });
  const connection = await hre.network.create({ network: "localhost", override: { url: rpcUrl } });
  try {
    const deployed = await connection.ignition.deploy(GridMeshModule, {
      parameters: { GridMesh: marketParameters },
    });
    const addresses = await Promise.all(
      CONTRACT_NAMES.map(
        async (name) => [name, (await deployed[name].getAddress()) as `0x${string}`] as const,
      ),
    );
    return Object.fromEntries(addresses) as ContractAddresses;
  } finally {
    await connection.close();
  }
}
