/**
 * The `gridmesh` channel's genesis block: organisations, policies, Raft and batching, written as a
 * configtx.yaml and turned into a block by configtxgen. Created once; later runs reuse the block.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";

import type { FabricInstall } from "./binaries.js";
import { exec } from "./exec.js";
import { CHANNEL, type Topology } from "./topology.js";

const PROFILE = "GridMeshChannel";

function signature(rule: string) {
  return { Type: "Signature", Rule: rule };
}

function implicit(rule: string) {
  return { Type: "ImplicitMeta", Rule: rule };
}

function configtx(topology: Topology): object {
  const { orderer, peers } = topology;
  const ordererOrg = {
    Name: orderer.mspId,
    ID: orderer.mspId,
    MSPDir: orderer.orgMspDir,
    Policies: {
      Readers: signature(`OR('${orderer.mspId}.member')`),
      Writers: signature(`OR('${orderer.mspId}.member')`),
      Admins: signature(`OR('${orderer.mspId}.admin')`),
    },
    OrdererEndpoints: [`127.0.0.1:${orderer.port}`],
  };
  const peerOrgs = peers.map((peer) => {
    const id = peer.mspId;
    return {
      Name: id,
      ID: id,
      MSPDir: peer.orgMspDir,
      Policies: {
        Readers: signature(`OR('${id}.admin', '${id}.peer', '${id}.client')`),
        Writers: signature(`OR('${id}.admin', '${id}.client')`),
        Admins: signature(`OR('${id}.admin')`),
        // Governs writes to the org's implicit private data collection: its own peer alone.
        Endorsement: signature(`OR('${id}.peer')`),
      },
      // In the genesis block, so every peer's gateway discovers every other organisation's peer.
      AnchorPeers: [{ Host: "127.0.0.1", Port: peer.port }],
    };
  });

  return {
    Profiles: {
      [PROFILE]: {
        Policies: {
          Readers: implicit("ANY Readers"),
          Writers: implicit("ANY Writers"),
          Admins: implicit("MAJORITY Admins"),
        },
        Capabilities: { V3_0: true },
        Orderer: {
          OrdererType: "etcdraft",
          // A Secure ID verification orders two transactions one after the other, and the p50 target
          // for the whole verification is 0.5 s. With a 2 s timeout (Fabric's default) a lone
          // transaction waits up to 2 s for its block; 20 ms bounds that wait to a few percent of the
          // budget while concurrent transactions arriving within it still share one block (fewer
          // blocks to validate and commit on a 2-core machine). Blocks are cut earlier when full.
          BatchTimeout: "20ms",
          BatchSize: { MaxMessageCount: 100, AbsoluteMaxBytes: "10 MB", PreferredMaxBytes: "2 MB" },
          EtcdRaft: {
            Consenters: [
              {
                Host: "127.0.0.1",
                Port: orderer.port,
                ClientTLSCert: orderer.crypto.tlsCert,
                ServerTLSCert: orderer.crypto.tlsCert,
              },
            ],
            // A single consenter still waits one election timeout (ElectionTick × TickInterval)
            // before leading at every start; 100 ms ticks make that about a second instead of five.
            Options: {
              TickInterval: "100ms",
              ElectionTick: 10,
              HeartbeatTick: 1,
              MaxInflightBlocks: 5,
              SnapshotIntervalSize: "16 MB",
            },
          },
          Organizations: [ordererOrg],
          Policies: {
            Readers: implicit("ANY Readers"),
            Writers: implicit("ANY Writers"),
            Admins: implicit("MAJORITY Admins"),
            BlockValidation: implicit("ANY Writers"),
          },
          Capabilities: { V2_0: true },
        },
        Application: {
          Organizations: peerOrgs,
          Policies: {
            Readers: implicit("ANY Readers"),
            Writers: implicit("ANY Writers"),
            Admins: implicit("MAJORITY Admins"),
            LifecycleEndorsement: implicit("MAJORITY Endorsement"),
            Endorsement: implicit("MAJORITY Endorsement"),
          },
          Capabilities: { V2_5: true },
        },
      },
    },
  };
}

export async function ensureGenesisBlock(install: FabricInstall, topology: Topology): Promise<boolean> {
  const { configDir, channelDir, genesisBlock } = topology.layout;
  if (existsSync(genesisBlock)) return false;
  // configtxgen reads configtx.yaml from FABRIC_CFG_PATH; keep it apart from core.yaml/orderer.yaml.
  const configtxDir = path.join(configDir, "configtx");
  await mkdir(configtxDir, { recursive: true });
  await mkdir(channelDir, { recursive: true });
  await writeFile(
    path.join(configtxDir, "configtx.yaml"),
    `${JSON.stringify(configtx(topology), null, 2)}\n`,
  );
  const partial = `${genesisBlock}.partial`;
  await exec(install.bin.configtxgen, ["-profile", PROFILE, "-channelID", CHANNEL, "-outputBlock", partial], {
    env: { ...process.env, FABRIC_CFG_PATH: configtxDir },
  });
  await rename(partial, genesisBlock);
  return true;
}
