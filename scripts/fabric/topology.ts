/**
 * Who is in the network, where each node listens and where its files are. Everything else derives
 * its names, ports and paths from here.
 *
 * Ports, from the base B (default 7050):
 *   B+0 orderer (broadcast/deliver and Raft cluster)   B+1 orderer admin (channel participation)
 *   B+2 orderer operations (/healthz, /metrics)
 *   B+10·(i+1) + 0  organisation i's peer: gRPC, including the Fabric Gateway
 *              + 1  its chaincode listener (unused with chaincode as a service, but bound)
 *              + 2  its operations endpoint (/healthz)
 *              + 3  the organisation's own secureid chaincode server, dialled by its peer only
 *
 * Each organisation runs its own chaincode server, as separate organisations would: the contract
 * API takes the executing organisation from the server's environment (CORE_PEER_LOCALMSPID), and
 * Keymaker's shard deposit depends on it.
 */
import path from "node:path";

import { PORT_SPAN } from "./config.js";

export const CHANNEL = "gridmesh";
export const CHAINCODE = "secureid";
export const CONTRACT = "SecureId";
export const DOMAIN = "gridmesh.local";
export const ORDERER_MSP = "OrdererMSP";

/** The peer organisations, one peer each. To add a verifier organisation see README.md. */
export const PEER_ORGS = [
  { mspId: "UtilityMSP", name: "utility" },
  { mspId: "Verifier1MSP", name: "verifier1" },
  { mspId: "Verifier2MSP", name: "verifier2" },
  { mspId: "Verifier3MSP", name: "verifier3" },
] as const;

export type PeerMspId = (typeof PEER_ORGS)[number]["mspId"];

export interface Identity {
  certPath: string;
  keyPath: string;
}

/** A node's material as cryptogen lays it out. */
export interface NodeCrypto {
  mspDir: string;
  tlsCert: string;
  tlsKey: string;
  tlsCa: string;
}

export interface ChaincodeServer {
  /** Process name, e.g. `chaincode-verifier1`. */
  name: string;
  port: number;
  host: string;
  /** Server TLS material; its CA is what the peer trusts when it dials the chaincode. */
  crypto: NodeCrypto;
  /** The chaincode package naming this server, installed on this organisation's peer only. */
  packageFile: string;
}

export interface PeerNode {
  mspId: PeerMspId;
  /** Short name used for process, log and data names, e.g. `verifier1`. */
  name: string;
  domain: string;
  host: string;
  port: number;
  chaincodePort: number;
  operationsPort: number;
  crypto: NodeCrypto;
  /** The organisation's MSP (CA certs and NodeOU config) as it goes into the channel config. */
  orgMspDir: string;
  orgTlsCa: string;
  admin: Identity & { mspDir: string };
  client: Identity & { mspDir: string };
  chaincodeServer: ChaincodeServer;
}

export interface OrdererNode {
  mspId: typeof ORDERER_MSP;
  domain: string;
  host: string;
  port: number;
  adminPort: number;
  operationsPort: number;
  crypto: NodeCrypto;
  orgMspDir: string;
  orgTlsCa: string;
  /** TLS client identity accepted by the admin endpoint (osnadmin). */
  adminTls: Identity;
}

export interface Layout {
  home: string;
  stateFile: string;
  profileFile: string;
  lockFile: string;
  configDir: string;
  cryptoDir: string;
  channelDir: string;
  genesisBlock: string;
  chaincodeDir: string;
  dataDir: string;
  runDir: string;
  logDir: string;
}

export interface Topology {
  layout: Layout;
  orderer: OrdererNode;
  peers: PeerNode[];
  /** TLS-only organisation issuing the chaincode servers' certificates; not in the channel. */
  chaincodeTlsDomain: string;
}

export function layoutOf(home: string): Layout {
  return {
    home,
    stateFile: path.join(home, "state.json"),
    profileFile: path.join(home, "network.json"),
    lockFile: path.join(home, "run", "lock"),
    configDir: path.join(home, "config"),
    cryptoDir: path.join(home, "crypto"),
    channelDir: path.join(home, "channel"),
    genesisBlock: path.join(home, "channel", `${CHANNEL}.block`),
    chaincodeDir: path.join(home, "chaincode"),
    dataDir: path.join(home, "data"),
    runDir: path.join(home, "run"),
    logDir: path.join(home, "logs"),
  };
}

function nodeCrypto(nodeDir: string): NodeCrypto {
  return {
    mspDir: path.join(nodeDir, "msp"),
    tlsCert: path.join(nodeDir, "tls", "server.crt"),
    tlsKey: path.join(nodeDir, "tls", "server.key"),
    tlsCa: path.join(nodeDir, "tls", "ca.crt"),
  };
}

/** cryptogen names every private key `priv_sk`. */
function user(orgDir: string, name: string, domain: string): Identity & { mspDir: string } {
  const mspDir = path.join(orgDir, "users", `${name}@${domain}`, "msp");
  return {
    mspDir,
    certPath: path.join(mspDir, "signcerts", `${name}@${domain}-cert.pem`),
    keyPath: path.join(mspDir, "keystore", "priv_sk"),
  };
}

export function topologyOf(home: string, portBase: number): Topology {
  if (10 * PEER_ORGS.length + 3 >= PORT_SPAN) {
    throw new Error(`${PEER_ORGS.length} organisations need more than the ${PORT_SPAN} ports of PORT_SPAN`);
  }
  const layout = layoutOf(home);
  const ordererDomain = DOMAIN;
  const ordererOrgDir = path.join(layout.cryptoDir, "ordererOrganizations", ordererDomain);
  const ordererHost = `orderer.${ordererDomain}`;
  const ordererAdminDir = path.join(ordererOrgDir, "users", `Admin@${ordererDomain}`);
  const orderer: OrdererNode = {
    mspId: ORDERER_MSP,
    domain: ordererDomain,
    host: ordererHost,
    port: portBase,
    adminPort: portBase + 1,
    operationsPort: portBase + 2,
    crypto: nodeCrypto(path.join(ordererOrgDir, "orderers", ordererHost)),
    orgMspDir: path.join(ordererOrgDir, "msp"),
    orgTlsCa: path.join(ordererOrgDir, "tlsca", `tlsca.${ordererDomain}-cert.pem`),
    adminTls: {
      certPath: path.join(ordererAdminDir, "tls", "client.crt"),
      keyPath: path.join(ordererAdminDir, "tls", "client.key"),
    },
  };

  // The chaincode servers' TLS identities come from a TLS-only organisation outside the channel: peers
  // can authenticate a server without the server holding any channel identity.
  const chaincodeTlsDomain = `ccaas.${DOMAIN}`;
  const peers = PEER_ORGS.map((org, index): PeerNode => {
    const domain = `${org.name}.${DOMAIN}`;
    const orgDir = path.join(layout.cryptoDir, "peerOrganizations", domain);
    const host = `peer0.${domain}`;
    const port = portBase + 10 * (index + 1);
    const ccHost = `${CHAINCODE}-${org.name}.${chaincodeTlsDomain}`;
    return {
      mspId: org.mspId,
      name: org.name,
      domain,
      host,
      port,
      chaincodePort: port + 1,
      operationsPort: port + 2,
      crypto: nodeCrypto(path.join(orgDir, "peers", host)),
      orgMspDir: path.join(orgDir, "msp"),
      orgTlsCa: path.join(orgDir, "tlsca", `tlsca.${domain}-cert.pem`),
      admin: user(orgDir, "Admin", domain),
      client: user(orgDir, "User1", domain),
      chaincodeServer: {
        name: `chaincode-${org.name}`,
        port: port + 3,
        host: ccHost,
        crypto: nodeCrypto(
          path.join(layout.cryptoDir, "peerOrganizations", chaincodeTlsDomain, "peers", ccHost),
        ),
        packageFile: path.join(layout.chaincodeDir, `${CHAINCODE}-${org.name}.tar.gz`),
      },
    };
  });

  return { layout, orderer, peers, chaincodeTlsDomain };
}

export function findPeer(topology: Topology, mspId: string): PeerNode {
  const peer = topology.peers.find((p) => p.mspId === mspId);
  if (!peer) {
    throw new Error(
      `no peer for MSP ${mspId}; the network has ${topology.peers.map((p) => p.mspId).join(", ")}`,
    );
  }
  return peer;
}

export function address(port: number): string {
  return `127.0.0.1:${port}`;
}
