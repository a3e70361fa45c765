import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { fabricDown, fabricUp, startPeer, stopPeer } from "../../scripts/fabric/network.js";
import { freePortBase } from "../../scripts/fabric/ports.js";
import { PEER_ORGS } from "../../scripts/fabric/topology.js";

/**
 * A Fabric network of the tests' own: a fresh home under the temporary directory and a block of free ports
 * (from 17050 up, so never the default 7050 a developer's network uses), brought up with the same
 * scripts as `npm run fabric:up` and purged by `purge()`, which the tests call whatever happened.
 */
export interface TestNetwork {
  home: string;
  portBase: number;
  profilePath: string;
  stopPeer(mspId: string): Promise<void>;
  startPeer(mspId: string): Promise<void>;
  /** `fabric:down` then `fabric:up` on the same home: every process restarts from its ledger. */
  restart(): Promise<void>;
  /** Stops the network and deletes its home; with GRIDMESH_TEST_KEEP_FABRIC=1 only stops it, logs kept. */
  purge(): Promise<void>;
  /** The organisations whose peer executed the chaincode for this transaction, from the peers' logs. */
  executedBy(txId: string): Promise<string[]>;
}

const FIRST_PORT_BASE = 17_050;
/** To read the logs of a failed run. */
const keep = process.env.GRIDMESH_TEST_KEEP_FABRIC === "1";

export async function startTestNetwork(): Promise<TestNetwork> {
  const home = await mkdtemp(path.join(tmpdir(), "gridmesh-fabric-it-"));
  const portBase = await freePortBase(FIRST_PORT_BASE);
  const progress: string[] = [];
  const options = { home, portBase, log: (line: string) => void progress.push(line) };
  const network: TestNetwork = {
    home,
    portBase,
    profilePath: path.join(home, "network.json"),
    stopPeer: (mspId) => stopPeer(mspId, options),
    startPeer: (mspId) => startPeer(mspId, options),
    restart: async () => {
      await fabricDown(options);
      await fabricUp(options);
    },
    purge: async () => {
      await fabricDown({ ...options, purge: !keep });
      if (keep) process.stderr.write(`kept the stopped test network in ${home}\n`);
    },
    executedBy: (txId) => executedBy(home, txId),
  };
  try {
    await fabricUp(options);
  } catch (error) {
    await network.purge().catch(() => undefined);
    throw new Error(`the test network did not come up:\n${progress.join("\n")}`, { cause: error });
  }
  return network;
}

/**
 * Each peer logs `callChaincode -> finished chaincode: … txID=<first 8 hex>` for every proposal it
 * executes: the peers named here are all that simulated the transaction, so all that saw its transient data.
 */
async function executedBy(home: string, txId: string): Promise<string[]> {
  const marker = `txID=${txId.slice(0, 8)}`;
  const logDir = path.join(home, "logs");
  const files = new Set(await readdir(logDir));
  const executed: string[] = [];
  for (const org of PEER_ORGS) {
    const file = `peer-${org.name}.log`;
    if (!files.has(file)) continue;
    const lines = (await readFile(path.join(logDir, file), "utf8")).split("\n");
    if (lines.some((line) => line.includes("finished chaincode") && line.includes(marker))) {
      executed.push(org.mspId);
    }
  }
  return executed;
}
