/**
 * Each organisation's administrator at work through the peer CLI: joining the channel and the
 * chaincode lifecycle (install, approve, commit), plus the read-only checks `up` makes to skip what
 * is already done and to know when the network serves the chaincode.
 */
import type { FabricInstall } from "./binaries.js";
import { CommandError, exec } from "./exec.js";
import { httpsGet, tcpOpen } from "./probes.js";
import { address, CHAINCODE, CHANNEL, type PeerNode, type Topology } from "./topology.js";

/** Chaincode definition: the package carries no code, so it never needs a new version. */
const DEFINITION = ["--channelID", CHANNEL, "--name", CHAINCODE, "--version", "1.0", "--sequence", "1"];

export interface PeerAdmin {
  install: FabricInstall;
  topology: Topology;
  /** Directory holding Fabric's core.yaml (the peer CLI reads it too). */
  configDir: string;
}

function adminEnv(ctx: PeerAdmin, peer: PeerNode): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FABRIC_CFG_PATH: ctx.configDir,
    FABRIC_LOGGING_SPEC: "warning",
    CORE_PEER_LOCALMSPID: peer.mspId,
    CORE_PEER_MSPCONFIGPATH: peer.admin.mspDir,
    CORE_PEER_ADDRESS: address(peer.port),
    CORE_PEER_TLS_ENABLED: "true",
    CORE_PEER_TLS_ROOTCERT_FILE: peer.orgTlsCa,
  };
}

function ordererArgs(ctx: PeerAdmin): string[] {
  const { orderer } = ctx.topology;
  return ["-o", address(orderer.port), "--tls", "--cafile", orderer.orgTlsCa];
}

function peer(ctx: PeerAdmin, node: PeerNode, args: string[], timeoutMs?: number) {
  return exec(ctx.install.bin.peer, args, { env: adminEnv(ctx, node), timeoutMs });
}

/** Healthy, and its gRPC port open: the operations endpoint answers before the peer serves gRPC. */
export async function peerHealthy(node: PeerNode): Promise<boolean> {
  const res = await httpsGet(`https://${address(node.operationsPort)}/healthz`, {
    caFile: node.crypto.tlsCa,
  });
  return res.status === 200 && (await tcpOpen("127.0.0.1", node.port));
}

export async function channelJoined(ctx: PeerAdmin, node: PeerNode): Promise<boolean> {
  const { stdout } = await peer(ctx, node, ["channel", "list"]);
  return stdout.split("\n").some((line) => line.trim() === CHANNEL);
}

export async function joinChannel(ctx: PeerAdmin, node: PeerNode): Promise<void> {
  await peer(ctx, node, ["channel", "join", "-b", ctx.topology.layout.genesisBlock]);
}

export async function installedPackages(ctx: PeerAdmin, node: PeerNode): Promise<string[]> {
  const { stdout } = await peer(ctx, node, ["lifecycle", "chaincode", "queryinstalled", "--output", "json"]);
  const parsed = JSON.parse(stdout || "{}") as { installed_chaincodes?: { package_id: string }[] };
  return (parsed.installed_chaincodes ?? []).map((c) => c.package_id);
}

export async function installPackage(ctx: PeerAdmin, node: PeerNode, packageFile: string): Promise<void> {
  await peer(ctx, node, ["lifecycle", "chaincode", "install", packageFile], 300_000);
}

/** Which organisations have approved our definition, from this peer's point of view. */
export async function approvals(ctx: PeerAdmin, node: PeerNode): Promise<Record<string, boolean>> {
  const { stdout } = await peer(ctx, node, [
    "lifecycle",
    "chaincode",
    "checkcommitreadiness",
    ...DEFINITION,
    "--output",
    "json",
  ]);
  return (JSON.parse(stdout) as { approvals: Record<string, boolean> }).approvals;
}

export async function approve(ctx: PeerAdmin, node: PeerNode, packageId: string): Promise<void> {
  await peer(ctx, node, [
    "lifecycle",
    "chaincode",
    "approveformyorg",
    ...DEFINITION,
    "--package-id",
    packageId,
    ...ordererArgs(ctx),
  ]);
}

/**
 * Orders a transaction that changes nothing, so that the channel gets a new block: the contract API's
 * built-in `GetMetadata` (in every fabric-contract-api chaincode, reads no state, emits no event),
 * endorsed by the given peers. Every peer that commits the block announces its new height to the others
 * over gossip, which is what `startPeer` needs it for.
 */
export async function cutBlock(
  ctx: PeerAdmin,
  node: PeerNode,
  endorsers: readonly PeerNode[],
): Promise<void> {
  await peer(ctx, node, [
    "chaincode",
    "invoke",
    "--channelID",
    CHANNEL,
    "--name",
    CHAINCODE,
    "--ctor",
    JSON.stringify({ Args: ["org.hyperledger.fabric:GetMetadata"] }),
    "--waitForEvent",
    ...endorsers.flatMap((p) => ["--peerAddresses", address(p.port), "--tlsRootCertFiles", p.orgTlsCa]),
    ...ordererArgs(ctx),
  ]);
}

export async function committed(ctx: PeerAdmin, node: PeerNode): Promise<boolean> {
  try {
    await peer(ctx, node, [
      "lifecycle",
      "chaincode",
      "querycommitted",
      "--channelID",
      CHANNEL,
      "--name",
      CHAINCODE,
    ]);
    return true;
  } catch (err) {
    if (err instanceof CommandError && /not defined|not found/i.test(err.stderr + err.stdout)) return false;
    throw err;
  }
}

/** Commits the definition, endorsed by every organisation's peer (LifecycleEndorsement is MAJORITY). */
export async function commit(ctx: PeerAdmin, node: PeerNode): Promise<void> {
  const endorsers = ctx.topology.peers.flatMap((p) => [
    "--peerAddresses",
    address(p.port),
    "--tlsRootCertFiles",
    p.orgTlsCa,
  ]);
  await peer(ctx, node, [
    "lifecycle",
    "chaincode",
    "commit",
    ...DEFINITION,
    ...endorsers,
    ...ordererArgs(ctx),
  ]);
}

/** A contract name no chaincode has: the contract API refuses it with a message naming it. */
const PROBE_CONTRACT = "GridMeshReadinessProbe";

/**
 * Invokes the chaincode through this peer (which makes the peer dial the chaincode server): true once
 * the chaincode itself answers. The call names an unknown contract, so the answer is the contract
 * API's refusal, whatever the contract's code: a chaincode that is not reachable yields a different
 * error. (The API's own metadata query cannot serve here: with class-transformer 0.4.1 it fails.)
 */
export async function chaincodeAnswers(ctx: PeerAdmin, node: PeerNode): Promise<boolean> {
  try {
    await peer(ctx, node, [
      "chaincode",
      "query",
      "--channelID",
      CHANNEL,
      "--name",
      CHAINCODE,
      "--ctor",
      JSON.stringify({ Args: [`${PROBE_CONTRACT}:ping`] }),
    ]);
  } catch (err) {
    if (err instanceof CommandError && err.stderr.includes(`Contract name is not known: ${PROBE_CONTRACT}`))
      return true;
    throw err;
  }
  throw new Error(`${CHAINCODE} accepted a call to the unknown contract ${PROBE_CONTRACT}`);
}

interface DiscoveredPeer {
  MSPID: string;
  Endpoint: string;
  Chaincodes?: string[] | null;
}

/**
 * The peers this peer's discovery service (the same membership its gateway uses to pick endorsers)
 * knows on the channel, with the chaincodes each runs.
 */
export async function discoveredPeers(ctx: PeerAdmin, node: PeerNode): Promise<DiscoveredPeer[]> {
  const { stdout } = await exec(ctx.install.bin.discover, [
    "--peerTLSCA",
    node.orgTlsCa,
    "--userKey",
    node.admin.keyPath,
    "--userCert",
    node.admin.certPath,
    "--MSP",
    node.mspId,
    "peers",
    "--channel",
    CHANNEL,
    "--server",
    address(node.port),
  ]);
  return JSON.parse(stdout) as DiscoveredPeer[];
}
