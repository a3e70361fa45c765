import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { DeviceIdentity } from "@gridmesh/chaincode/client";
import { Contract, type Wallet } from "ethers";

import { meterRegistryAbi } from "@gridmesh/contracts";

import { createDeviceKey } from "../../meter-agent/src/identity/deviceKeyFile.js";
import type { DeviceContext } from "../../meter-agent/src/identity/deviceContext.js";
import { enrollmentConsent } from "../../meter-agent/src/identity/enrollmentConsent.js";
import { GatewayIdentityClient } from "../../meter-agent/src/identity/gatewayIdentityClient.js";
import { IdentityFiles } from "../../meter-agent/src/identity/identityFiles.js";
import { provisionDevice } from "../../meter-agent/src/identity/provisionDevice.js";
import { sealDevice } from "../../meter-agent/src/identity/sealDevice.js";
import { verifyDevice } from "../../meter-agent/src/identity/verifyDevice.js";
import { createKeystore } from "../../meter-agent/src/signing/keystore.js";
import { transact } from "./ownerFunds.js";

/** Local development keys: the cheap scrypt keeps startup fast; these homes hold no real value. */
export const KEY_SCRYPT_N = 1024;
const PASSPHRASE = "gridmesh local meter passphrase";

/** A home's meter key and Secure ID device key, as `gridmesh-agent init` lays them out. */
export interface MeterKeys {
  meter: `0x${string}`;
  deviceId: string;
  /** The agent's directory: its keys, configuration and data. */
  dir: string;
  keystore: string;
  deviceKey: string;
  passphraseFile: string;
  /** Where the agent keeps its store and identity files (its configuration's dataDir). */
  dataDir: string;
  meterKey: Wallet;
  device: DeviceIdentity;
}

/** Creates the home's keys, as `gridmesh-agent init` does, before anything runs: the fleet names the meter. */
export async function createMeterKeys(dir: string): Promise<MeterKeys> {
  await mkdir(path.join(dir, "data"), { recursive: true, mode: 0o700 });
  const passphraseFile = path.join(dir, "passphrase");
  await writeFile(passphraseFile, PASSPHRASE, { mode: 0o600 });
  const keystore = path.join(dir, "meter-key.json");
  const deviceKey = path.join(dir, "device-key.json");
  const meterKey = await createKeystore(keystore, PASSPHRASE, { scryptN: KEY_SCRYPT_N });
  const device = await createDeviceKey(deviceKey, PASSPHRASE, { scryptN: KEY_SCRYPT_N });
  return {
    meter: meterKey.address as `0x${string}`,
    deviceId: device.deviceId,
    dir,
    keystore,
    deviceKey,
    passphraseFile,
    dataDir: path.join(dir, "data"),
    meterKey,
    device,
  };
}

export interface ActivateMeterParameters {
  keys: MeterKeys;
  /** The home's owner, connected to the chain: it enrols the meter. */
  owner: Wallet;
  registry: string;
  chainId: number;
  gatewayUrl: string;
  /** The identity document's attributes. */
  attributes: { manufacturer: string; model: string; serial: string };
}

/**
 * Makes the meter active in MeterRegistry the way a real one becomes active, with the agent's own
 * identity code (what `gridmesh-agent identity …` runs): the owner enrols it with the meter key's
 * consent; the device provisions its Secure ID identity, seals it (Keymaker, one shard per verifier
 * organisation, k = 2) and answers the Keychecker verification through the gateway, whose verifier
 * organisations attest the verdict; the gateway then activates the meter with k of n attestations.
 */
export async function activateMeter(p: ActivateMeterParameters): Promise<{ verdictTxId: string }> {
  const { keys, owner } = p;
  const consent = await enrollmentConsent(keys.meterKey, {
    owner: owner.address,
    deviceId: keys.deviceId,
    registry: p.registry,
    chainId: p.chainId,
  });
  const registry = new Contract(p.registry, meterRegistryAbi, owner);
  await transact(registry, "enroll", keys.meter, keys.deviceId, consent.signature);

  const ctx: DeviceContext = {
    device: keys.device,
    meter: keys.meter.toLowerCase(),
    files: new IdentityFiles(keys.dataDir),
    gateway: new GatewayIdentityClient({ url: p.gatewayUrl, timeoutMs: 60_000 }),
    secrets: { passphrase: PASSPHRASE, scryptN: KEY_SCRYPT_N },
  };
  await provisionDevice(ctx, { attributes: p.attributes });
  await sealDevice(ctx, { k: 2 });
  const verified = await verifyDevice(ctx);
  if (verified.activation.status !== "active")
    throw new Error(`meter ${keys.meter} verified but not activated: ${JSON.stringify(verified.activation)}`);
  return { verdictTxId: verified.verdictTxId };
}
