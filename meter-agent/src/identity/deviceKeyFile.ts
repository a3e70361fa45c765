import { DeviceIdentity } from "@gridmesh/chaincode/client";

import { DeviceKeyError } from "./identityErrors.js";
import { openSealedFile, readSealedFile, writeSealedFile } from "./sealedFile.js";

/**
 * The device's ed25519 key (Secure ID) at rest: its 32-byte seed sealed with the meter key's
 * passphrase and scrypt cost, its device id and public key in clear so `status` needs no passphrase.
 */

const KIND = "device-key";

export interface DevicePublicKey {
  /** `0x` + sha256(public key): the bytes32 MeterRegistry enrols the meter under. */
  deviceId: string;
  /** The raw ed25519 public key, lower-case hex. */
  publicKey: string;
}

/** Creates a fresh device key at `path`; refuses if a file is there. */
export async function createDeviceKey(
  path: string,
  passphrase: string,
  options: { scryptN: number },
): Promise<DeviceIdentity> {
  const device = DeviceIdentity.generate();
  const seed = device.exportPrivateKey();
  try {
    await writeSealedFile({
      path,
      kind: KIND,
      clear: { deviceId: device.deviceId, publicKey: device.publicKey },
      secret: seed,
      passphrase,
      scryptN: options.scryptN,
    });
  } finally {
    seed.fill(0);
  }
  return device;
}

/** Decrypts the device key, and checks it is the key its clear fields name. */
export async function loadDeviceKey(path: string, passphrase: string): Promise<DeviceIdentity> {
  const envelope = await readSealedFile(path, KIND);
  const seed = await openSealedFile(path, envelope, passphrase);
  try {
    if (seed.length !== 32)
      throw new DeviceKeyError(`${path} holds ${seed.length} bytes, not a 32-byte ed25519 seed`);
    const device = DeviceIdentity.fromPrivateKey(seed);
    // The clear fields are authenticated, so a mismatch means the file was written wrongly, not altered.
    if (device.deviceId !== envelope.clear.deviceId || device.publicKey !== envelope.clear.publicKey) {
      throw new DeviceKeyError(
        `${path} names device ${envelope.clear.deviceId} but holds the key of ${device.deviceId}`,
      );
    }
    return device;
  } finally {
    seed.fill(0);
  }
}

/** The device id and public key recorded in the file, read without the passphrase. */
export async function readDevicePublicKey(path: string): Promise<DevicePublicKey> {
  const { clear } = await readSealedFile(path, KIND);
  const { deviceId, publicKey } = clear;
  if (typeof deviceId !== "string" || !/^0x[0-9a-f]{64}$/.test(deviceId)) {
    throw new DeviceKeyError(`${path} records no device id`);
  }
  if (typeof publicKey !== "string" || !/^[0-9a-f]{64}$/.test(publicKey)) {
    throw new DeviceKeyError(`${path} records no ed25519 public key`);
  }
  return { deviceId, publicKey };
}
