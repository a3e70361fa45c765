import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";

import { SigningKey } from "ethers";

import { AgentConfigError, loadAgentConfig, parseAgentConfig } from "../agent/agentConfig.js";
import { MeterAgent, storePath, unlockMeterKey } from "../agent/meterAgent.js";
import { AgentError } from "../common/agentError.js";
import { createAgentLogger } from "../common/logger.js";
import { createKeystore, keystoreAddress, readPassphrase } from "../signing/keystore.js";
import { ReadingStore } from "../store/readingStore.js";

const USAGE = `usage: gridmesh-agent <command> [options]

commands:
  init           create the meter key and the device key (encrypted) and a configuration file
  run            run the agent: read, sign, store and forward readings
  status         print the stored readings' state as JSON
  export-public  print the meter's address and public key, and the device's id and ed25519 key, as JSON
  identity       the device's Secure ID identity: init, enrollment, provision, seal, verify, status,
                 revoke (gridmesh-agent identity --help)

options:
  --config <file>       configuration file (default ./agent.json)
init options (it creates the meter key and the device key, both under the one passphrase):
  --passphrase-file <f> | --passphrase-env <VAR>   where the keys' passphrase is (required)
  --chain-id <n> --ledger <0x…>                    the DeliveryLedger readings are signed for
  --interval <seconds>                             trading interval (default 900)
  --serial <path> [--slave <n>] [--model SDM120|SDM630] | --simulated
  --gateway <url> --rpc <url> --controller         where readings go (one or more)
  --data-dir <dir>                                 default ./data
`;

async function main(argv: string[]): Promise<number> {
  // `identity` has its own options; it may follow `--config <file>`. Loaded only for identity work:
  // the Secure ID client library is heavy, and `run` never needs it.
  const { tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: { config: { type: "string" } },
  });
  const first = tokens.find((t) => t.kind === "positional");
  if (first?.value === "identity") {
    const { identityCli } = await import("./identityCli.js");
    return identityCli(argv.filter((_, i) => i !== first.index));
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", default: "agent.json" },
      "passphrase-file": { type: "string" },
      "passphrase-env": { type: "string" },
      "chain-id": { type: "string" },
      ledger: { type: "string" },
      interval: { type: "string", default: "900" },
      serial: { type: "string" },
      slave: { type: "string", default: "1" },
      model: { type: "string", default: "SDM120" },
      simulated: { type: "boolean", default: false },
      gateway: { type: "string" },
      rpc: { type: "string" },
      controller: { type: "boolean", default: false },
      "data-dir": { type: "string", default: "data" },
      "scrypt-n": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const configPath = resolve(values.config);
  switch (command) {
    case "init":
      return init(configPath, values);
    case "run":
      return run(configPath);
    case "status":
      return status(configPath);
    case "export-public":
      return exportPublic(configPath);
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

type InitValues = Record<string, string | boolean | undefined>;

async function init(configPath: string, v: InitValues): Promise<number> {
  if (await exists(configPath))
    throw new AgentConfigError(`${configPath} exists; refusing to overwrite a meter's configuration`);
  const str = (k: string) => (typeof v[k] === "string" ? v[k] : undefined);
  const uplinks = [
    str("gateway") === undefined ? undefined : { kind: "gateway", url: str("gateway") },
    str("rpc") === undefined ? undefined : { kind: "chain", rpcUrl: str("rpc") },
    v.controller ? { kind: "controller" } : undefined,
  ].filter((x) => x !== undefined);
  if (uplinks.length === 0)
    throw new AgentConfigError("give at least one of --gateway <url>, --rpc <url> or --controller");
  if ((str("serial") === undefined) === !v.simulated)
    throw new AgentConfigError("give exactly one of --serial <path> or --simulated");
  const config = {
    dataDir: str("data-dir"),
    key: {
      keystore: "meter-key.json",
      ...(str("passphrase-file") === undefined ? {} : { passphraseFile: str("passphrase-file") }),
      ...(str("passphrase-env") === undefined ? {} : { passphraseEnv: str("passphrase-env") }),
      ...(str("scrypt-n") === undefined ? {} : { scryptN: Number(str("scrypt-n")) }),
    },
    chain: { chainId: Number(str("chain-id")), ledger: str("ledger") },
    intervalSeconds: Number(str("interval")),
    source: v.simulated
      ? { kind: "simulated", originMs: Date.now() }
      : { kind: "sdm", path: str("serial"), slave: Number(str("slave")), model: str("model") },
    ...(uplinks.length === 1 ? { uplink: uplinks[0] } : { uplinks }),
    identity: { deviceKey: "device-key.json" },
  };
  // Validate everything before creating anything, so a typo leaves no half-made meter behind.
  const parsed = parseAgentConfig(config, dirname(configPath));
  const passphrase = await readPassphrase({ file: parsed.key.passphraseFile, env: parsed.key.passphraseEnv });
  const deviceKeyPath = parsed.identity.deviceKey;
  if (await exists(deviceKeyPath)) {
    throw new AgentConfigError(`${deviceKeyPath} exists; refusing to overwrite a device key`);
  }
  const { createDeviceKey } = await import("../identity/deviceKeyFile.js");
  const wallet = await createKeystore(parsed.key.keystore, passphrase, { scryptN: parsed.key.scryptN });
  const device = await createDeviceKey(deviceKeyPath, passphrase, { scryptN: parsed.key.scryptN });
  await mkdir(parsed.dataDir, { recursive: true, mode: 0o700 });
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  process.stdout.write(
    `${JSON.stringify({
      meter: wallet.address,
      deviceId: device.deviceId,
      config: configPath,
      keystore: parsed.key.keystore,
      deviceKey: deviceKeyPath,
    })}\n`,
  );
  return 0;
}

async function run(configPath: string): Promise<number> {
  // Signals are caught from the very start: a stop that arrives while the key is being decrypted
  // must still end in an orderly shutdown, not the default kill.
  const stopped = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const config = await loadAgentConfig(configPath);
  const log = createAgentLogger(config.log.level);
  const agent = await MeterAgent.start(config, log);
  log.info({ signal: await stopped }, "stopping");
  await agent.stop();
  return 0;
}

async function status(configPath: string): Promise<number> {
  const config = await loadAgentConfig(configPath);
  const meter = await keystoreAddress(config.key.keystore);
  const store = ReadingStore.open(storePath(config), meter);
  try {
    const last = store.last();
    const anchor = store.anchor();
    const out = {
      meter,
      counts: store.counts(),
      uplinks: store.uplinkCounts(),
      lastReading:
        last === undefined
          ? null
          : {
              interval: last.reading.interval.toString(),
              sequence: last.reading.sequence.toString(),
              delivered: last.deliveredMs !== null,
              deliveredVia: last.deliveredVia,
            },
      anchor: anchor === undefined ? null : { interval: anchor.interval.toString() },
      trades: store.trades.recent(5).map((t) => ({
        interval: t.interval.toString(),
        side: t.side,
        wh: t.wh.toString(),
        pricePerKwh: t.pricePerKwh.toString(),
        status: t.status,
        orderId: t.orderId?.toString() ?? null,
        reason: t.reason,
        txHash: t.txHash,
      })),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    store.close();
  }
  return 0;
}

async function exportPublic(configPath: string): Promise<number> {
  const config = await loadAgentConfig(configPath);
  const wallet = await unlockMeterKey(config);
  const publicKey = SigningKey.computePublicKey(wallet.signingKey.publicKey, false);
  // Taken from the decrypted key, not the file's clear fields: this is what the owner enrols.
  let device: { deviceId: string; publicKey: string } | undefined;
  if (await exists(config.identity.deviceKey)) {
    const { loadDeviceKey } = await import("../identity/deviceKeyFile.js");
    const passphrase = await readPassphrase({
      file: config.key.passphraseFile,
      env: config.key.passphraseEnv,
    });
    device = await loadDeviceKey(config.identity.deviceKey, passphrase);
  } else {
    process.stderr.write(`no device key at ${config.identity.deviceKey}: create it with \`identity init\`\n`);
  }
  const out = {
    meter: wallet.address,
    publicKey,
    deviceId: device?.deviceId ?? null,
    devicePublicKey: device?.publicKey ?? null,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      process.stderr.write(`${(e as Error).message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    // Expected failures get their message alone; anything else is a bug and keeps its stack.
    process.stderr.write(
      e instanceof AgentError ? `error: ${e.message}\n` : `${(e as Error).stack ?? String(e)}\n`,
    );
    process.exitCode = 1;
  },
);
