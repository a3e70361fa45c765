/**
 * Identities for every node and user, generated once with cryptogen. NodeOUs are on so that the
 * `.peer`, `.admin` and `.client` roles in the channel policies mean what they say.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import type { FabricInstall } from "./binaries.js";
import { exec } from "./exec.js";
import type { Topology } from "./topology.js";

// Every node listens on loopback, and peers reach each other and the orderer by 127.0.0.1 (gossip,
// deliver, Raft), so the TLS certificates must name it besides the node's host name.
const LOOPBACK_SANS = ["localhost", "127.0.0.1"];

function cryptoConfig(topology: Topology): object {
  const { orderer, peers, chaincodeTlsDomain } = topology;
  return {
    OrdererOrgs: [
      {
        Name: "Orderer",
        Domain: orderer.domain,
        EnableNodeOUs: true,
        Specs: [{ Hostname: orderer.host.split(".")[0], SANS: LOOPBACK_SANS }],
      },
    ],
    PeerOrgs: [
      ...peers.map((peer) => ({
        Name: peer.name,
        Domain: peer.domain,
        EnableNodeOUs: true,
        Template: { Count: 1, SANS: LOOPBACK_SANS },
        Users: { Count: 1 },
      })),
      {
        Name: "ccaas",
        Domain: chaincodeTlsDomain,
        EnableNodeOUs: true,
        Specs: peers.map((peer) => ({
          Hostname: peer.chaincodeServer.host.split(".")[0],
          SANS: LOOPBACK_SANS,
        })),
      },
    ],
  };
}

export async function ensureCrypto(install: FabricInstall, topology: Topology): Promise<boolean> {
  const { cryptoDir, configDir } = topology.layout;
  if (existsSync(path.join(cryptoDir, ".complete"))) return false;

  await mkdir(configDir, { recursive: true });
  const configFile = path.join(configDir, "crypto-config.yaml");
  // JSON is YAML, and writing it avoids a YAML library.
  await writeFile(configFile, `${JSON.stringify(cryptoConfig(topology), null, 2)}\n`);
  const staging = `${cryptoDir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await exec(install.bin.cryptogen, ["generate", `--config=${configFile}`, `--output=${staging}`]);
  await rm(cryptoDir, { recursive: true, force: true });
  await rename(staging, cryptoDir);
  await writeFile(path.join(cryptoDir, ".complete"), "");
  return true;
}
