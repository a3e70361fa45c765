/** The orderer's admin side: channel participation (osnadmin) and its health and Raft leadership. */
import type { FabricInstall } from "./binaries.js";
import { CommandError, exec } from "./exec.js";
import { httpsGet, tcpOpen } from "./probes.js";
import { address, CHANNEL, type Topology } from "./topology.js";

interface ChannelInfo {
  name: string;
  status: string;
  consensusRelation: string;
  height: number;
}

function osnadminArgs(topology: Topology): string[] {
  const { orderer } = topology;
  return [
    "-o",
    address(orderer.adminPort),
    "--ca-file",
    orderer.crypto.tlsCa,
    "--client-cert",
    orderer.adminTls.certPath,
    "--client-key",
    orderer.adminTls.keyPath,
  ];
}

/** osnadmin prints "Status: <code>" and then the JSON body. */
function parseOsnadmin(stdout: string): { status: number; body: unknown } {
  const status = Number(/Status:\s*(\d+)/.exec(stdout)?.[1] ?? NaN);
  const start = stdout.indexOf("{");
  return { status, body: start >= 0 ? (JSON.parse(stdout.slice(start)) as unknown) : undefined };
}

/** The orderer's view of the channel, or undefined if it has not joined it. */
export async function ordererChannel(
  install: FabricInstall,
  topology: Topology,
): Promise<ChannelInfo | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await exec(install.bin.osnadmin, [
      "channel",
      "list",
      "--channelID",
      CHANNEL,
      ...osnadminArgs(topology),
    ]));
  } catch (err) {
    if (err instanceof CommandError && /Status:\s*404/.test(err.stdout)) return undefined;
    throw err;
  }
  const { status, body } = parseOsnadmin(stdout);
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`osnadmin channel list ${CHANNEL}: status ${status}: ${stdout.trim()}`);
  return body as ChannelInfo;
}

export async function joinOrderer(install: FabricInstall, topology: Topology): Promise<void> {
  const { stdout } = await exec(install.bin.osnadmin, [
    "channel",
    "join",
    "--channelID",
    CHANNEL,
    "--config-block",
    topology.layout.genesisBlock,
    ...osnadminArgs(topology),
  ]);
  const { status } = parseOsnadmin(stdout);
  if (status !== 201) throw new Error(`osnadmin channel join ${CHANNEL}: ${stdout.trim()}`);
}

/** Healthy, with its admin and main ports open (the operations endpoint answers first). */
export async function ordererHealthy(topology: Topology): Promise<boolean> {
  const { orderer } = topology;
  const res = await httpsGet(`https://${address(orderer.operationsPort)}/healthz`, {
    caFile: orderer.crypto.tlsCa,
  });
  return (
    res.status === 200 &&
    (await tcpOpen("127.0.0.1", orderer.adminPort)) &&
    (await tcpOpen("127.0.0.1", orderer.port))
  );
}

/**
 * True once this (single) consenter leads the channel's Raft cluster: before that, broadcasts are
 * refused. Read from the operations endpoint's Prometheus gauge, which (unlike /healthz) is only served
 * to a client with a certificate from the orderer organisation's TLS CA.
 */
export async function ordererLeads(topology: Topology): Promise<boolean> {
  const { orderer } = topology;
  const res = await httpsGet(`https://${address(orderer.operationsPort)}/metrics`, {
    caFile: orderer.crypto.tlsCa,
    client: { certFile: orderer.adminTls.certPath, keyFile: orderer.adminTls.keyPath },
  });
  if (res.status !== 200) throw new Error(`GET /metrics on the orderer: HTTP ${res.status}`);
  const gauge = res.body
    .split("\n")
    .find((line) => line.startsWith("consensus_etcdraft_is_leader") && line.includes(`channel="${CHANNEL}"`));
  return gauge !== undefined && Number(gauge.trim().split(/\s+/).at(-1)) === 1;
}
