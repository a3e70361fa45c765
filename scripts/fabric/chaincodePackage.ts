/**
 * Chaincode-as-a-service packages, one per organisation: metadata.json (type "ccaas", handled by our
 * external builder) and code.tar.gz holding connection.json, which tells the organisation's peer
 * where its chaincode server listens and which CA its TLS certificate comes from. Each organisation
 * approves the chaincode definition with its own package id, as the lifecycle allows.
 *
 * A package holds no code: the server runs the contract from the repository, so changing the
 * contract needs a restart of the network, not a new chaincode definition.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import type { FabricInstall } from "./binaries.js";
import { exec } from "./exec.js";
import { address, CHAINCODE, type PeerNode } from "./topology.js";

export const PACKAGE_TYPE = "ccaas";

/** Creates the organisation's package once; its id is the hash of these bytes, so it is kept. */
export async function ensureChaincodePackage(peer: PeerNode): Promise<string> {
  const file = peer.chaincodeServer.packageFile;
  if (existsSync(file)) return file;

  const work = `${file}.build`;
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, "code"), { recursive: true });
  const server = peer.chaincodeServer;
  const connection = {
    address: address(server.port),
    dial_timeout: "10s",
    tls_required: true,
    // The builder adds the peer's own TLS certificate and key at release (see builders/ccaas).
    client_auth_required: true,
    root_cert: await readFile(server.crypto.tlsCa, "utf8"),
  };
  await writeFile(path.join(work, "code", "connection.json"), `${JSON.stringify(connection, null, 2)}\n`);
  await writeFile(
    path.join(work, "metadata.json"),
    `${JSON.stringify({ type: PACKAGE_TYPE, label: CHAINCODE })}\n`,
  );
  await exec("tar", [
    "-C",
    path.join(work, "code"),
    "-czf",
    path.join(work, "code.tar.gz"),
    "connection.json",
  ]);
  const partial = `${file}.partial`;
  await exec("tar", ["-C", work, "-czf", partial, "metadata.json", "code.tar.gz"]);
  await rename(partial, file);
  await rm(work, { recursive: true, force: true });
  return file;
}

export async function packageIdOf(install: FabricInstall, configDir: string, file: string): Promise<string> {
  const { stdout } = await exec(install.bin.peer, ["lifecycle", "chaincode", "calculatepackageid", file], {
    env: { ...process.env, FABRIC_CFG_PATH: configDir },
  });
  const id = stdout.trim();
  if (!id.startsWith(`${CHAINCODE}:`))
    throw new Error(`unexpected package id for ${file}: ${JSON.stringify(id)}`);
  return id;
}
