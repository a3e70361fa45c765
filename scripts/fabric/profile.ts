/**
 * The network profile: everything a Fabric client needs to reach the running network, written by
 * `fabric:up` to `<home>/network.json` and read back with `readNetworkProfile()`.
 *
 * Paths are absolute. Peers serve the Fabric Gateway on their gRPC endpoint, over TLS: trust
 * `tlsRootCertPath` and verify the server as `hostnameOverride` (the certificates also name
 * 127.0.0.1 and localhost). Keys are PEM PKCS#8 ECDSA P-256, as `@hyperledger/fabric-gateway`'s
 * `signers.newPrivateKeySigner(crypto.createPrivateKey(pem))` expects.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { z } from "zod";

import { FABRIC_COMMIT, FABRIC_RELEASE } from "./binaries.js";
import { type FabricOptions, resolveConfig } from "./config.js";
import { address, CHAINCODE, CHANNEL, CONTRACT, layoutOf, type Topology } from "./topology.js";

/** Files of one identity. */
export interface IdentityFiles {
  /** X.509 certificate (PEM). */
  certPath: string;
  /** Its private key (PEM). */
  keyPath: string;
}

/** How to reach one node over TLS. */
export interface NodeEndpoint {
  /** host:port of the node's gRPC service. */
  endpoint: string;
  /** CA certificate (PEM) that issued the node's TLS certificate. */
  tlsRootCertPath: string;
  /** Server name to verify the node's TLS certificate against (`grpc.ssl_target_name_override`). */
  hostnameOverride: string;
}

export interface OrganizationProfile {
  mspId: string;
  /** The organisation's peer, with the Fabric Gateway enabled. */
  peer: NodeEndpoint;
  /** A non-admin client identity (User1, NodeOU `client`): the one applications use. */
  client: IdentityFiles;
  /** The organisation's administrator (NodeOU `admin`). */
  admin: IdentityFiles;
}

export interface NetworkProfile {
  version: 1;
  fabric: { release: string; commit: string };
  channel: string;
  chaincode: string;
  /** The contract inside the chaincode (`SecureId`). */
  contract: string;
  orderer: NodeEndpoint & { mspId: string };
  /** Keyed by MSP id: `UtilityMSP`, `Verifier1MSP`, … */
  organizations: Record<string, OrganizationProfile>;
}

const identitySchema = z.object({ certPath: z.string(), keyPath: z.string() });
const endpointSchema = z.object({
  endpoint: z.string(),
  tlsRootCertPath: z.string(),
  hostnameOverride: z.string(),
});
const organizationSchema = z.object({
  mspId: z.string(),
  peer: endpointSchema,
  client: identitySchema,
  admin: identitySchema,
});

export const networkProfileSchema: z.ZodType<NetworkProfile> = z.object({
  version: z.literal(1),
  fabric: z.object({ release: z.string(), commit: z.string() }),
  channel: z.string(),
  chaincode: z.string(),
  contract: z.string(),
  orderer: endpointSchema.extend({ mspId: z.string() }),
  organizations: z.record(z.string(), organizationSchema),
});

export function profileOf(topology: Topology): NetworkProfile {
  const { orderer, peers } = topology;
  return {
    version: 1,
    fabric: { release: FABRIC_RELEASE, commit: FABRIC_COMMIT },
    channel: CHANNEL,
    chaincode: CHAINCODE,
    contract: CONTRACT,
    orderer: {
      mspId: orderer.mspId,
      endpoint: address(orderer.port),
      tlsRootCertPath: orderer.orgTlsCa,
      hostnameOverride: orderer.host,
    },
    organizations: Object.fromEntries(
      peers.map((peer) => [
        peer.mspId,
        {
          mspId: peer.mspId,
          peer: { endpoint: address(peer.port), tlsRootCertPath: peer.orgTlsCa, hostnameOverride: peer.host },
          client: { certPath: peer.client.certPath, keyPath: peer.client.keyPath },
          admin: { certPath: peer.admin.certPath, keyPath: peer.admin.keyPath },
        },
      ]),
    ),
  };
}

export async function writeNetworkProfile(topology: Topology): Promise<string> {
  const file = topology.layout.profileFile;
  await writeFile(file, `${JSON.stringify(profileOf(topology), null, 2)}\n`);
  return file;
}

/**
 * The profile of the network last brought up in `home` (default: `GRIDMESH_FABRIC_HOME` or
 * `<repo>/.fabric`). Fails if the network was never brought up there.
 */
export async function readNetworkProfile(options: Pick<FabricOptions, "home"> = {}): Promise<NetworkProfile> {
  const file = layoutOf(resolveConfig(options).home).profileFile;
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`no Fabric network profile at ${file}: run \`npm run fabric:up\` first`);
    }
    throw err;
  }
  const parsed = networkProfileSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(
      `${path.relative(process.cwd(), file) || file} is not a valid network profile: ${issues}`,
    );
  }
  return parsed.data;
}
