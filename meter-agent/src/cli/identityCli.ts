import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

import { AgentConfigError, loadAgentConfig, type AgentConfig } from "../agent/agentConfig.js";
import { unlockMeterKey } from "../agent/meterAgent.js";
import type { DeviceContext } from "../identity/deviceContext.js";
import { createDeviceKey, loadDeviceKey, readDevicePublicKey } from "../identity/deviceKeyFile.js";
import { enrollmentConsent } from "../identity/enrollmentConsent.js";
import { GatewayIdentityClient } from "../identity/gatewayIdentityClient.js";
import { GatewayIdentityError } from "../identity/identityErrors.js";
import { IdentityFiles } from "../identity/identityFiles.js";
import { provisionDevice } from "../identity/provisionDevice.js";
import { revokeDevice } from "../identity/revokeDevice.js";
import { sealDevice } from "../identity/sealDevice.js";
import { verifyDevice } from "../identity/verifyDevice.js";
import { keystoreAddress, readPassphrase } from "../signing/keystore.js";

export const IDENTITY_USAGE = `usage: gridmesh-agent identity <command> [options]

The device's Secure ID identity, through the utility gateway's identity API (docs/SECURE_ID.md).

commands:
  init        create the device key (encrypted like the meter key) for an agent that has none
  enrollment  print the meter key's consent for MeterRegistry.enroll (the owner submits it)
  provision   register the device key, bound to this meter, on the Secure ID ledger
  seal        Keymaker: encrypt the identity document, deposit one key shard per verifier
  verify      Keychecker: check and sign the gateway's consent and challenge; the meter is then activated
  status      this device's identity: what the agent recorded and what the gateway reports
  revoke      revoke the identity (final; the device needs a new key to come back)

options:
  --config <file>              configuration file (default ./agent.json)
  --gateway <url>              the gateway's base URL (default: identity.gateway in the configuration,
                               else the first gateway uplink's URL without /v1/readings)
provision:  --attributes manufacturer=…,model=…,serial=…[,name=value…]  [--owner-msp <MSP id>]
seal:       [--k <n>] (default 2)  [--verifiers <MSP>,<MSP>,…] (default: every registered one)
revoke:     --reason <text>
enrollment: --owner <0x…> --registry <MeterRegistry 0x…>
`;

const OPTIONS = {
  config: { type: "string", default: "agent.json" },
  gateway: { type: "string" },
  "owner-msp": { type: "string" },
  attributes: { type: "string" },
  k: { type: "string" },
  verifiers: { type: "string" },
  reason: { type: "string" },
  owner: { type: "string" },
  registry: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** `gridmesh-agent identity …`: resolves to the exit code; expected failures throw AgentErrors. */
export async function identityCli(argv: string[]): Promise<number> {
  let parsed: { positionals: string[]; values: Values };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    if (!String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_")) throw e;
    process.stderr.write(`${(e as Error).message}\n${IDENTITY_USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(IDENTITY_USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`unexpected argument "${positionals[1]}"\n${IDENTITY_USAGE}`);
    return 2;
  }
  const configPath = resolve(values.config);
  switch (command) {
    case "init":
      return init(await loadAgentConfig(configPath));
    case "enrollment":
      return enrollment(await loadAgentConfig(configPath), values);
    case "provision": {
      const attributes = parseAttributes(required(values.attributes, "--attributes"));
      const ctx = await deviceContext(await loadAgentConfig(configPath), values);
      return print(await provisionDevice(ctx, { ownerMsp: values["owner-msp"], attributes }));
    }
    case "seal": {
      const k = values.k === undefined ? undefined : positiveInteger(values.k, "--k");
      const verifiers = values.verifiers?.split(",").map((v) => v.trim());
      const ctx = await deviceContext(await loadAgentConfig(configPath), values);
      return print(await sealDevice(ctx, { k, verifiers }));
    }
    case "verify":
      return print(await verifyDevice(await deviceContext(await loadAgentConfig(configPath), values)));
    case "revoke": {
      const reason = required(values.reason, "--reason");
      return print(
        await revokeDevice(await deviceContext(await loadAgentConfig(configPath), values), reason),
      );
    }
    case "status":
      return status(await loadAgentConfig(configPath), values);
    default:
      process.stderr.write(`unknown identity command "${command}"\n${IDENTITY_USAGE}`);
      return 2;
  }
}

/** The device key for an agent made before identities existed (`init` now makes both). */
async function init(config: AgentConfig): Promise<number> {
  const passphrase = await passphraseOf(config);
  const device = await createDeviceKey(config.identity.deviceKey, passphrase, {
    scryptN: config.key.scryptN,
  });
  return print({
    deviceId: device.deviceId,
    publicKey: device.publicKey,
    deviceKey: config.identity.deviceKey,
  });
}

async function enrollment(config: AgentConfig, values: Values): Promise<number> {
  const { deviceId } = await readDevicePublicKey(config.identity.deviceKey);
  const meterKey = await unlockMeterKey(config);
  return print(
    await enrollmentConsent(meterKey, {
      owner: required(values.owner, "--owner"),
      registry: required(values.registry, "--registry"),
      deviceId,
      chainId: config.chain.chainId,
    }),
  );
}

/** What the agent recorded, and what the gateway reports when one is known; needs no passphrase. */
async function status(config: AgentConfig, values: Values): Promise<number> {
  const key = await readDevicePublicKey(config.identity.deviceKey);
  const files = new IdentityFiles(config.dataDir);
  const document = await access(files.documentPath).then(
    () => files.documentPath,
    () => null,
  );
  const out: Record<string, unknown> = {
    ...key,
    meter: await keystoreAddress(config.key.keystore),
    deviceKey: config.identity.deviceKey,
    document,
    recorded: await files.readState(key.deviceId),
  };
  let code = 0;
  const url = gatewayUrl(config, values, false);
  if (url === undefined) {
    out.gateway = null;
  } else {
    const gateway = new GatewayIdentityClient({ url, timeoutMs: config.identity.timeoutMs });
    try {
      out.gateway = { url: gateway.url, identity: await gateway.status(key.deviceId) };
    } catch (error) {
      if (!(error instanceof GatewayIdentityError)) throw error;
      // Not on the ledger is an answer (not provisioned yet); no answer at all is a failure.
      if (error.status !== 404) code = 1;
      out.gateway = { url: gateway.url, identity: null, error: error.message };
    }
  }
  print(out);
  return code;
}

async function deviceContext(config: AgentConfig, values: Values): Promise<DeviceContext> {
  const url = gatewayUrl(config, values, true)!;
  const passphrase = await passphraseOf(config);
  return {
    device: await loadDeviceKey(config.identity.deviceKey, passphrase),
    meter: await keystoreAddress(config.key.keystore),
    files: new IdentityFiles(config.dataDir),
    gateway: new GatewayIdentityClient({ url, timeoutMs: config.identity.timeoutMs }),
    secrets: { passphrase, scryptN: config.key.scryptN },
  };
}

function gatewayUrl(config: AgentConfig, values: Values, need: boolean): string | undefined {
  const gateway = config.uplinks.find((u) => u.kind === "gateway");
  const uplink = gateway?.url.replace(/\/v1\/readings\/?$/, "");
  const url = values.gateway ?? config.identity.gateway ?? uplink;
  if (url === undefined && need) {
    throw new AgentConfigError(
      "no gateway to talk to: give --gateway <url> or set identity.gateway in the configuration",
    );
  }
  return url;
}

function passphraseOf(config: AgentConfig): Promise<string> {
  return readPassphrase({ file: config.key.passphraseFile, env: config.key.passphraseEnv });
}

/** `manufacturer=Eastron,model=SDM630,serial=X`: the identity document's attributes, all strings. */
export function parseAttributes(text: string): Record<string, string> & {
  manufacturer: string;
  model: string;
  serial: string;
} {
  const attributes = new Map<string, string>();
  for (const pair of text.split(",")) {
    const at = pair.indexOf("=");
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (at < 1 || name === "" || value === "") {
      throw new AgentConfigError(`--attributes: "${pair}" is not name=value`);
    }
    if (attributes.has(name)) throw new AgentConfigError(`--attributes: ${name} is given twice`);
    attributes.set(name, value);
  }
  const missing = ["manufacturer", "model", "serial"].filter((n) => !attributes.has(n));
  if (missing.length > 0) throw new AgentConfigError(`--attributes: ${missing.join(", ")} missing`);
  return Object.fromEntries(attributes) as ReturnType<typeof parseAttributes>;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new AgentConfigError(`${flag} is required`);
  return value;
}

function positiveInteger(text: string, flag: string): number {
  if (!/^[0-9]+$/.test(text)) throw new AgentConfigError(`${flag} must be a whole number, not "${text}"`);
  return Number(text);
}

function print(value: unknown): number {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  return 0;
}
