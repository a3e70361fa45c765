// External builder for chaincode as a service, run by each peer through bin/{detect,build,release}
// (https://hyperledger-fabric.readthedocs.io/en/latest/cc_service.html describes the contract):
//
//   detect  SOURCE METADATA         exit 0 when metadata.json says type "ccaas"
//   build   SOURCE METADATA OUTPUT  validate the package's connection.json and keep it
//   release OUTPUT RELEASE          write chaincode/server/connection.json for the peer to dial
//
// There is no `run`: the peer connects to the already running chaincode server itself.
// Plain JavaScript with no dependencies: the peer runs it as a child process with only PATH and the
// variables listed in the peer's propagateEnvironment.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [step, ...dirs] = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`gridmesh-ccaas ${step}: ${message}\n`);
  process.exit(1);
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    return fail(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function dirArgs(count) {
  if (dirs.length < count) fail(`expected ${count} directories, got ${dirs.length}`);
  return dirs;
}

function detect() {
  const [, metadataDir] = dirArgs(2);
  const metadata = readJson(join(metadataDir, "metadata.json"));
  process.exit(String(metadata.type).toLowerCase() === "ccaas" ? 0 : 1);
}

function build() {
  const [sourceDir, , outputDir] = dirArgs(3);
  const connection = readJson(join(sourceDir, "connection.json"));
  if (typeof connection.address !== "string" || !/^[^\s:]+:\d+$/.test(connection.address)) {
    fail(`connection.json needs "address" as host:port, got ${JSON.stringify(connection.address)}`);
  }
  if (connection.tls_required && typeof connection.root_cert !== "string") {
    fail("connection.json asks for TLS but has no root_cert (PEM of the chaincode server's CA)");
  }
  writeFileSync(join(outputDir, "connection.json"), JSON.stringify(connection, null, 2));
}

// The client identity is added at release, from the peer's own TLS files, so that the package (the
// same bytes on every peer) carries no private key and each peer authenticates as itself.
function release() {
  const [outputDir, releaseDir] = dirArgs(2);
  const connection = readJson(join(outputDir, "connection.json"));
  if (connection.client_auth_required) {
    const certFile = process.env.CORE_PEER_TLS_CERT_FILE;
    const keyFile = process.env.CORE_PEER_TLS_KEY_FILE;
    if (!certFile || !keyFile) {
      fail("client_auth_required, but CORE_PEER_TLS_CERT_FILE/CORE_PEER_TLS_KEY_FILE are not propagated");
    }
    connection.client_cert = readFileSync(certFile, "utf8");
    connection.client_key = readFileSync(keyFile, "utf8");
  }
  const serverDir = join(releaseDir, "chaincode", "server");
  mkdirSync(serverDir, { recursive: true });
  writeFileSync(join(serverDir, "connection.json"), JSON.stringify(connection, null, 2), { mode: 0o600 });
}

switch (step) {
  case "detect":
    detect();
    break;
  case "build":
    build();
    break;
  case "release":
    release();
    break;
  default:
    fail(`unknown step ${JSON.stringify(step)}`);
}
