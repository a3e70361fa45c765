/**
 * The GridMesh Fabric network as one unit: bring it up (building, generating and deploying what is
 * missing, restarting what exists), take it down, stop and start single peers, read its profile.
 *
 *   import { fabricUp, fabricDown, stopPeer, startPeer, readNetworkProfile } from "scripts/fabric/network.js";
 */
import { existsSync } from "node:fs";
import { readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";

import { ensureFabricBinaries, type FabricInstall } from "./binaries.js";
import { ensureGenesisBlock } from "./channelConfig.js";
import { ensureChaincodePackage, packageIdOf } from "./chaincodePackage.js";
import { type FabricConfig, type FabricOptions, resolveConfig } from "./config.js";
import { ensureCrypto } from "./crypto.js";
import {
  chaincodeSpec,
  ORDERER_PROCESS,
  ordererSpec,
  peerProcessName,
  peerSpec,
  prepareNodeConfig,
} from "./nodes.js";
import { joinOrderer, ordererChannel, ordererHealthy, ordererLeads } from "./ordererAdmin.js";
import {
  approvals,
  approve,
  chaincodeAnswers,
  channelJoined,
  commit,
  cutBlock,
  committed,
  discoveredPeers,
  installedPackages,
  installPackage,
  joinChannel,
  type PeerAdmin,
  peerHealthy,
} from "./peerAdmin.js";
import { type NetworkProfile, profileOf, readNetworkProfile, writeNetworkProfile } from "./profile.js";
import { logFileOf, logTail, type ProcessSpec, runningPid, startProcess, stopProcess } from "./processes.js";
import { tcpOpen, waitFor } from "./probes.js";
import { type NetworkState, openState, readState, withLock, writeState } from "./state.js";
import { CHAINCODE, findPeer, layoutOf, type PeerNode, type Topology, topologyOf } from "./topology.js";

export { readNetworkProfile };
export type { FabricOptions, NetworkProfile };

export interface FabricUpOptions extends FabricOptions {
  /** Package whose package.json "main" exports the contracts. Default `<repo>/chaincode`. */
  chaincodeDir?: string;
}

export interface FabricDownOptions extends FabricOptions {
  /** Also delete the network home: crypto, ledgers, logs. The next `up` creates a new network. */
  purge?: boolean;
}

interface Network {
  cfg: FabricConfig;
  install: FabricInstall;
  topology: Topology;
  admin: PeerAdmin;
}

const START_TIMEOUT_MS = 90_000;

/**
 * Starts the process (unless running) and waits until `ready` says so. If the process exits or never
 * gets ready, the error names it and quotes the end of its log.
 */
async function launch(cfg: FabricConfig, spec: ProcessSpec, ready: () => Promise<boolean>): Promise<void> {
  const { pid, started } = await startProcess(spec);
  const logFile = logFileOf(spec.logDir, spec.name);
  if (started) cfg.log(`started ${spec.name} (pid ${pid}), log ${logFile}`);
  try {
    await waitFor(`${spec.name} to be ready`, async () => ((await ready()) ? true : undefined), {
      timeoutMs: START_TIMEOUT_MS,
      check: async () => {
        if ((await runningPid(spec.runDir, spec.name)) === undefined) throw new Error(`${spec.name} exited`);
      },
    });
  } catch (err) {
    throw new Error(
      `${spec.name} failed to start: ${(err as Error).message}\n--- last lines of ${logFile} ---\n${await logTail(logFile)}`,
    );
  }
}

async function openNetwork(cfg: FabricConfig, state: NetworkState): Promise<Network> {
  const install = await ensureFabricBinaries(cfg);
  const topology = topologyOf(cfg.home, state.portBase);
  return {
    cfg,
    install,
    topology,
    admin: { install, topology, configDir: path.join(topology.layout.configDir, "fabric") },
  };
}

async function existingNetwork(cfg: FabricConfig): Promise<Network> {
  const state = await readState(layoutOf(cfg.home));
  if (!state) throw new Error(`no Fabric network in ${cfg.home}: run \`npm run fabric:up\` first`);
  return openNetwork(cfg, state);
}

async function startOrderer(net: Network): Promise<void> {
  const { cfg, install, topology, admin } = net;
  await launch(cfg, ordererSpec(install, topology, admin.configDir), () => ordererHealthy(topology));
  if (!(await ordererChannel(install, topology))) {
    await joinOrderer(install, topology);
    cfg.log(`orderer joined channel from ${topology.layout.genesisBlock}`);
  }
}

async function startPeerNode(net: Network, peer: PeerNode): Promise<void> {
  const { cfg, install, topology, admin } = net;
  await launch(cfg, peerSpec(cfg, install, topology, admin.configDir, peer), () => peerHealthy(peer));
  if (!(await channelJoined(admin, peer))) {
    await joinChannel(admin, peer);
    cfg.log(`${peer.mspId} peer joined the channel`);
  }
}

/** Installs each organisation's package on its peer, approves with its id, and commits the definition. */
async function deployChaincode(
  net: Network,
  state: NetworkState,
  packageIds: Record<string, string>,
): Promise<void> {
  const { cfg, admin, topology } = net;
  await Promise.all(
    topology.peers.map(async (peer) => {
      if ((await installedPackages(admin, peer)).includes(packageIds[peer.mspId]!)) return;
      await installPackage(admin, peer, peer.chaincodeServer.packageFile);
      cfg.log(`installed ${packageIds[peer.mspId]} on ${peer.mspId}'s peer`);
    }),
  );
  const [first] = topology.peers as [PeerNode, ...PeerNode[]];
  if (!(await committed(admin, first))) {
    const approved = await approvals(admin, first);
    await Promise.all(
      topology.peers
        .filter((peer) => !approved[peer.mspId])
        .map(async (peer) => {
          await approve(admin, peer, packageIds[peer.mspId]!);
          cfg.log(`${peer.mspId} approved ${CHAINCODE}`);
        }),
    );
    // Every peer endorses the commit, so each must have seen every approval first.
    await Promise.all(
      topology.peers.map((peer) =>
        waitFor(`all approvals on ${peer.mspId}'s peer`, async () =>
          Object.values(await approvals(admin, peer)).every(Boolean) ? true : undefined,
        ),
      ),
    );
    await commit(admin, first);
    cfg.log(`committed the ${CHAINCODE} chaincode definition on the channel`);
  }
  state.chaincodeCommitted = true;
  await writeState(topology.layout, state);
}

/** Packages (first run only) and starts each organisation's chaincode server. */
async function startChaincodeServers(net: Network, state: NetworkState, chaincodeDir: string) {
  const { cfg, install, topology, admin } = net;
  const packageIds = { ...state.packageIds };
  for (const peer of topology.peers) {
    const file = await ensureChaincodePackage(peer);
    packageIds[peer.mspId] ??= await packageIdOf(install, admin.configDir, file);
  }
  if (JSON.stringify(packageIds) !== JSON.stringify(state.packageIds)) {
    state.packageIds = packageIds;
    await writeState(topology.layout, state);
  }
  await Promise.all(
    topology.peers.map((peer) =>
      launch(cfg, chaincodeSpec(topology, chaincodeDir, peer, packageIds[peer.mspId]!), () =>
        tcpOpen("127.0.0.1", peer.chaincodeServer.port),
      ),
    ),
  );
  return packageIds;
}

/**
 * Ready for clients: the chaincode answers through every given peer, and each of them discovers all
 * of them running it, so its gateway can find endorsers in every organisation.
 */
async function waitUntilServing(net: Network, peers: PeerNode[], timeoutMs?: number): Promise<void> {
  const { admin } = net;
  const endpoints = new Set(peers.map((peer) => `127.0.0.1:${peer.port}`));
  const wait = timeoutMs === undefined ? {} : { timeoutMs };
  await Promise.all(
    peers.map(async (peer) => {
      await waitFor(
        `${CHAINCODE} to answer through ${peer.mspId}'s peer`,
        async () => ((await chaincodeAnswers(admin, peer)) ? true : undefined),
        wait,
      );
      await waitFor(
        `${peer.mspId}'s peer to discover every peer running ${CHAINCODE}`,
        async () => {
          const seen = (await discoveredPeers(admin, peer)).filter((p) => p.Chaincodes?.includes(CHAINCODE));
          return [...endpoints].every((endpoint) => seen.some((p) => p.Endpoint === endpoint))
            ? true
            : undefined;
        },
        wait,
      );
    }),
  );
}

/**
 * Brings the network up and returns its profile (also written to `<home>/network.json`). The first
 * run builds the Fabric binaries if needed, generates crypto and the channel, and deploys the
 * chaincode; later runs restart the same network with its ledgers. Safe to call when it is up.
 */
export async function fabricUp(options: FabricUpOptions = {}): Promise<NetworkProfile> {
  const cfg = resolveConfig(options);
  const chaincodeDir = path.resolve(options.chaincodeDir ?? path.join(cfg.repoRoot, "chaincode"));
  const layout = layoutOf(cfg.home);
  return withLock(layout, async () => {
    const started = Date.now();
    const state = await openState(cfg);
    const net = await openNetwork(cfg, state);
    const { install, topology } = net;
    if (await ensureCrypto(install, topology)) cfg.log(`generated crypto material in ${layout.cryptoDir}`);
    if (await ensureGenesisBlock(install, topology)) cfg.log(`created genesis block ${layout.genesisBlock}`);
    await prepareNodeConfig(install, topology);

    await startOrderer(net);
    await Promise.all(topology.peers.map((peer) => startPeerNode(net, peer)));
    await waitFor("the orderer to lead the channel's Raft cluster", async () =>
      (await ordererLeads(topology)) ? true : undefined,
    );

    const packageIds = await startChaincodeServers(net, state, chaincodeDir);
    if (!state.chaincodeCommitted) await deployChaincode(net, state, packageIds);

    await waitUntilServing(net, topology.peers);
    await writeNetworkProfile(topology);
    cfg.log(`network up in ${((Date.now() - started) / 1000).toFixed(1)} s; profile ${layout.profileFile}`);
    return profileOf(topology);
  });
}

/** Stops every process of the network (data kept unless `purge`). Safe to call when it is down. */
export async function fabricDown(options: FabricDownOptions = {}): Promise<void> {
  const cfg = resolveConfig(options);
  const layout = layoutOf(cfg.home);
  if (!existsSync(cfg.home)) {
    cfg.log(`no network in ${cfg.home}`);
    return;
  }
  await withLock(layout, async () => {
    const state = await readState(layout);
    const peers = state ? topologyOf(cfg.home, state.portBase).peers : [];
    // Peers and chaincode servers first, so none of them is left retrying a stopped orderer.
    const names = peers.flatMap((peer) => [peerProcessName(peer), peer.chaincodeServer.name]);
    const first = await Promise.all(
      names.map(async (name) => [name, await stopProcess(layout.runDir, name)] as const),
    );
    const stopped = [...first, [ORDERER_PROCESS, await stopProcess(layout.runDir, ORDERER_PROCESS)] as const]
      .filter(([, wasRunning]) => wasRunning)
      .map(([name]) => name);
    cfg.log(stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running");
    if (options.purge) {
      // Only what looks like ours: a mistyped GRIDMESH_FABRIC_HOME must not delete someone's files.
      const entries = await readdir(cfg.home);
      if (!state && entries.some((entry) => entry !== "run" && entry !== "logs")) {
        throw new Error(`${cfg.home} holds no Fabric network (no state.json); not deleting it`);
      }
      for (const entry of entries) await rm(path.join(cfg.home, entry), { recursive: true, force: true });
    }
  });
  if (options.purge) {
    // Empty by now (the lock went last); rmdir refuses anything else.
    await rmdir(cfg.home);
    cfg.log(`purged ${cfg.home}`);
  }
}

/** Stops one organisation's peer (e.g. to show verification survives a missing verifier). */
export async function stopPeer(mspId: string, options: FabricOptions = {}): Promise<void> {
  const cfg = resolveConfig(options);
  const net = await existingNetwork(cfg);
  const peer = findPeer(net.topology, mspId);
  await withLock(net.topology.layout, async () => {
    if (await stopProcess(net.topology.layout.runDir, peerProcessName(peer)))
      cfg.log(`stopped ${mspId}'s peer`);
  });
}

/**
 * A peer restarted while another organisation's peer is down may never see the others. Each peer asks the
 * others for snapshots of the channel's gossip state, one entry per peer; the others still hold the down
 * peer's entry, whose identity the restarted peer has never seen, and Fabric 3.1's gossip
 * (`handleStateInfSnapshot`) drops the rest of a snapshot at the first entry it cannot place. Whether the
 * restarted peer learns the others then depends on the order of the entries (several times in some 80
 * starts here, it did not). A new block heals it: every peer announces its new height to the others
 * directly. So a peer that has not found the others within a few seconds gets one, from a transaction
 * that changes nothing.
 */
const REJOIN_TIMEOUT_MS = 6_000;

/** Starts one organisation's peer again and waits until it serves the chaincode and sees its peers. */
export async function startPeer(mspId: string, options: FabricOptions = {}): Promise<void> {
  const cfg = resolveConfig(options);
  const net = await existingNetwork(cfg);
  const peer = findPeer(net.topology, mspId);
  const { runDir } = net.topology.layout;
  await withLock(net.topology.layout, async () => {
    if ((await runningPid(runDir, ORDERER_PROCESS)) === undefined) {
      throw new Error(`the network in ${cfg.home} is down: start it with \`npm run fabric:up\``);
    }
    await startPeerNode(net, peer);
    const running = [];
    for (const p of net.topology.peers) {
      if ((await runningPid(runDir, peerProcessName(p))) !== undefined) running.push(p);
    }
    try {
      await waitUntilServing(net, running, REJOIN_TIMEOUT_MS);
      return;
    } catch (err) {
      cfg.log(`${mspId}'s peer has not rejoined the others yet (${(err as Error).message}); cutting a block`);
    }
    // Invalid for want of endorsers when fewer than a MAJORITY run, but a block all the same.
    await cutBlock(net.admin, peer, running).catch((err: unknown) =>
      cfg.log(`the rejoining block's transaction was refused: ${(err as Error).message}`),
    );
    await waitUntilServing(net, running);
  });
}

export interface ProcessStatus {
  name: string;
  pid: number | undefined;
  logFile: string;
}

/** Which of the network's processes run. */
export async function fabricStatus(options: FabricOptions = {}): Promise<ProcessStatus[]> {
  const cfg = resolveConfig(options);
  const layout = layoutOf(cfg.home);
  const state = await readState(layout);
  if (!state) return [];
  const peers = topologyOf(cfg.home, state.portBase).peers;
  const names = [
    ORDERER_PROCESS,
    ...peers.flatMap((peer) => [peerProcessName(peer), peer.chaincodeServer.name]),
  ];
  return Promise.all(
    names.map(async (name) => ({
      name,
      pid: await runningPid(layout.runDir, name),
      logFile: logFileOf(layout.logDir, name),
    })),
  );
}
