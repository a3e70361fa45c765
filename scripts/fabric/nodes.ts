/**
 * How each network process is launched: Fabric's own sampleconfig core.yaml and orderer.yaml, with
 * everything this network needs given as environment overrides (CORE_*, ORDERER_*).
 */
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import type { FabricInstall } from "./binaries.js";
import type { FabricConfig } from "./config.js";
import type { ProcessSpec } from "./processes.js";
import { address, type PeerNode, type Topology } from "./topology.js";

export const ORDERER_PROCESS = "orderer";
export const BUILDER_NAME = "gridmesh-ccaas";

export function peerProcessName(peer: PeerNode): string {
  return `peer-${peer.name}`;
}

/** Peer-side directory of the external builder (bin/detect, bin/build, bin/release). */
export function builderDir(cfg: FabricConfig): string {
  return path.join(cfg.repoRoot, "scripts", "fabric", "builders", "ccaas");
}

/** Copies Fabric's default core.yaml and orderer.yaml, so they always match the binaries in use. */
export async function prepareNodeConfig(install: FabricInstall, topology: Topology): Promise<string> {
  const dir = path.join(topology.layout.configDir, "fabric");
  await mkdir(dir, { recursive: true });
  for (const file of ["core.yaml", "orderer.yaml"]) {
    await copyFile(path.join(install.sampleConfig, file), path.join(dir, file));
  }
  return dir;
}

function baseEnv(configDir: string): NodeJS.ProcessEnv {
  return {
    // The external builder scripts are Node programs: run them with the Node running us.
    PATH: [path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    FABRIC_CFG_PATH: configDir,
    // Info, less a line per gRPC call and connection: those would dominate the logs under load.
    FABRIC_LOGGING_SPEC: "info:grpc,comm.grpc.server=warning",
  };
}

export function ordererSpec(install: FabricInstall, topology: Topology, configDir: string): ProcessSpec {
  const { orderer, layout } = topology;
  const data = path.join(layout.dataDir, ORDERER_PROCESS);
  const tls = orderer.crypto;
  return {
    name: ORDERER_PROCESS,
    command: install.bin.orderer,
    args: [],
    ports: [orderer.port, orderer.adminPort, orderer.operationsPort],
    cwd: layout.home,
    runDir: layout.runDir,
    logDir: layout.logDir,
    env: {
      ...baseEnv(configDir),
      ORDERER_GENERAL_LISTENADDRESS: "127.0.0.1",
      ORDERER_GENERAL_LISTENPORT: String(orderer.port),
      ORDERER_GENERAL_LOCALMSPID: orderer.mspId,
      ORDERER_GENERAL_LOCALMSPDIR: tls.mspDir,
      ORDERER_GENERAL_TLS_ENABLED: "true",
      ORDERER_GENERAL_TLS_CERTIFICATE: tls.tlsCert,
      ORDERER_GENERAL_TLS_PRIVATEKEY: tls.tlsKey,
      ORDERER_GENERAL_TLS_ROOTCAS: `[${tls.tlsCa}]`,
      // Raft traffic shares the main listener; these are the identity it presents to other consenters.
      ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE: tls.tlsCert,
      ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY: tls.tlsKey,
      ORDERER_GENERAL_CLUSTER_ROOTCAS: `[${tls.tlsCa}]`,
      ORDERER_FILELEDGER_LOCATION: path.join(data, "ledger"),
      ORDERER_CONSENSUS_WALDIR: path.join(data, "etcdraft", "wal"),
      ORDERER_CONSENSUS_SNAPDIR: path.join(data, "etcdraft", "snapshot"),
      ORDERER_ADMIN_LISTENADDRESS: address(orderer.adminPort),
      ORDERER_ADMIN_TLS_ENABLED: "true",
      ORDERER_ADMIN_TLS_CERTIFICATE: tls.tlsCert,
      ORDERER_ADMIN_TLS_PRIVATEKEY: tls.tlsKey,
      ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED: "true",
      ORDERER_ADMIN_TLS_CLIENTROOTCAS: `[${orderer.orgTlsCa}]`,
      ORDERER_OPERATIONS_LISTENADDRESS: address(orderer.operationsPort),
      ORDERER_OPERATIONS_TLS_ENABLED: "true",
      ORDERER_OPERATIONS_TLS_CERTIFICATE: tls.tlsCert,
      ORDERER_OPERATIONS_TLS_PRIVATEKEY: tls.tlsKey,
      ORDERER_OPERATIONS_TLS_CLIENTROOTCAS: `[${orderer.orgTlsCa}]`,
      // Prometheus metrics on the operations endpoint: `up` reads the Raft leader gauge from it.
      ORDERER_METRICS_PROVIDER: "prometheus",
    },
  };
}

export function peerSpec(
  cfg: FabricConfig,
  install: FabricInstall,
  topology: Topology,
  configDir: string,
  peer: PeerNode,
): ProcessSpec {
  const { layout } = topology;
  const name = peerProcessName(peer);
  const data = path.join(layout.dataDir, name);
  const tls = peer.crypto;
  const externalBuilders = [
    {
      name: BUILDER_NAME,
      path: builderDir(cfg),
      // The builder gives the chaincode connection this peer's own TLS identity (mutual TLS).
      propagateEnvironment: ["CORE_PEER_TLS_CERT_FILE", "CORE_PEER_TLS_KEY_FILE"],
    },
  ];
  return {
    name,
    command: install.bin.peer,
    args: ["node", "start"],
    ports: [peer.port, peer.chaincodePort, peer.operationsPort],
    cwd: layout.home,
    runDir: layout.runDir,
    logDir: layout.logDir,
    env: {
      ...baseEnv(configDir),
      CORE_PEER_ID: peer.host,
      CORE_PEER_LOCALMSPID: peer.mspId,
      CORE_PEER_MSPCONFIGPATH: tls.mspDir,
      CORE_PEER_LISTENADDRESS: address(peer.port),
      CORE_PEER_ADDRESS: address(peer.port),
      CORE_PEER_CHAINCODELISTENADDRESS: address(peer.chaincodePort),
      CORE_PEER_CHAINCODEADDRESS: address(peer.chaincodePort),
      // One peer per organisation: it bootstraps gossip from itself and learns the other
      // organisations' peers from the anchor peers in the channel config.
      CORE_PEER_GOSSIP_BOOTSTRAP: address(peer.port),
      CORE_PEER_GOSSIP_EXTERNALENDPOINT: address(peer.port),
      // Peers start together, so the first dial to another organisation's anchor peer often fails;
      // the default 25 s before the next attempt would delay discovery (and `up`) by as much.
      CORE_PEER_GOSSIP_RECONNECTINTERVAL: "1s",
      CORE_PEER_GATEWAY_ENABLED: "true",
      CORE_PEER_TLS_ENABLED: "true",
      CORE_PEER_TLS_CERT_FILE: tls.tlsCert,
      CORE_PEER_TLS_KEY_FILE: tls.tlsKey,
      CORE_PEER_TLS_ROOTCERT_FILE: tls.tlsCa,
      CORE_PEER_TLS_CLIENTCERT_FILE: tls.tlsCert,
      CORE_PEER_TLS_CLIENTKEY_FILE: tls.tlsKey,
      CORE_PEER_FILESYSTEMPATH: data,
      CORE_LEDGER_SNAPSHOTS_ROOTDIR: path.join(data, "snapshots"),
      CORE_LEDGER_STATE_STATEDATABASE: "goleveldb",
      CORE_OPERATIONS_LISTENADDRESS: address(peer.operationsPort),
      CORE_OPERATIONS_TLS_ENABLED: "true",
      CORE_OPERATIONS_TLS_CERT_FILE: tls.tlsCert,
      CORE_OPERATIONS_TLS_KEY_FILE: tls.tlsKey,
      // No Docker: an empty endpoint (the peer allows empty overrides) also drops the Docker health
      // check that would otherwise fail /healthz.
      CORE_VM_ENDPOINT: "",
      // JSON is YAML, which is what Fabric parses this override as.
      CORE_CHAINCODE_EXTERNALBUILDERS: JSON.stringify(externalBuilders),
    },
  };
}

/** Where the chaincode server finds the contract: a package whose package.json "main" exports it. */
export function chaincodeEntry(chaincodeDir: string): string {
  const manifest = path.join(chaincodeDir, "package.json");
  const main = (JSON.parse(readFileSync(manifest, "utf8")) as { main?: unknown }).main;
  if (typeof main !== "string") {
    throw new Error(`${manifest} has no "main": fabric-chaincode-node loads the contracts from it`);
  }
  const entry = path.resolve(chaincodeDir, main);
  if (!existsSync(entry)) throw new Error(`${manifest} "main" points at ${entry}, which does not exist`);
  return entry;
}

/** The organisation's chaincode server: fabric-chaincode-node serving the contract to its peer only. */
export function chaincodeSpec(
  topology: Topology,
  chaincodeDir: string,
  peer: PeerNode,
  packageId: string,
): ProcessSpec {
  const { layout } = topology;
  const server = peer.chaincodeServer;
  const requireFromChaincode = createRequire(path.join(chaincodeDir, "package.json"));
  const shimCli = path.join(path.dirname(requireFromChaincode.resolve("fabric-shim/package.json")), "cli.js");
  chaincodeEntry(chaincodeDir);
  // fabric-chaincode-node also reads CORE_* variables as options: none from the caller's shell.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("CORE_")),
  );
  return {
    name: server.name,
    command: process.execPath,
    ports: [server.port],
    // tsx runs the TypeScript contract as is; the working directory is the chaincode package so
    // tsx applies that package's tsconfig.json.
    args: [
      "--import",
      "tsx",
      shimCli,
      "server",
      "--chaincode-address",
      address(server.port),
      "--chaincode-id",
      packageId,
      "--module-path",
      chaincodeDir,
      "--chaincode-tls-cert-file",
      server.crypto.tlsCert,
      "--chaincode-tls-key-file",
      server.crypto.tlsKey,
      // Mutual TLS: only clients with a certificate from this organisation's TLS CA (its peer).
      "--chaincode-tls-client-cacert-file",
      peer.orgTlsCa,
    ],
    cwd: chaincodeDir,
    runDir: layout.runDir,
    logDir: layout.logDir,
    // The contract API's stub.getMspID() is this variable: the organisation the chaincode runs for.
    env: { ...inherited, CORE_PEER_LOCALMSPID: peer.mspId },
  };
}
