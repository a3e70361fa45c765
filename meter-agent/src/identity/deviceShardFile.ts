import { z } from "zod";

import { DeviceKeyError } from "./identityErrors.js";
import { openSealedFile, readSealedFile, writeSealedFile } from "./sealedFile.js";

/**
 * Keymaker's shard n, the one the device keeps: with k-1 verifiers' shards it rebuilds the document
 * key. Sealed like the device key; the commitment and index stay in clear to match it to the seal.
 */

const KIND = "device-shard";

export interface DeviceShard {
  index: number;
  shard: string;
  salt: string;
  commitment: string;
}

const secretSchema = z.strictObject({ shard: z.string(), salt: z.string() });

export async function writeDeviceShard(
  path: string,
  p: { deviceId: string; epoch: number; shard: DeviceShard; passphrase: string; scryptN: number },
): Promise<void> {
  await writeSealedFile({
    path,
    kind: KIND,
    clear: { deviceId: p.deviceId, epoch: p.epoch, index: p.shard.index, commitment: p.shard.commitment },
    secret: Buffer.from(JSON.stringify({ shard: p.shard.shard, salt: p.shard.salt }), "utf8"),
    passphrase: p.passphrase,
    scryptN: p.scryptN,
  });
}

export async function readDeviceShard(
  path: string,
  passphrase: string,
): Promise<{ deviceId: string; epoch: number; shard: DeviceShard }> {
  const envelope = await readSealedFile(path, KIND);
  const { deviceId, epoch, index, commitment } = envelope.clear;
  if (typeof deviceId !== "string" || typeof epoch !== "number" || typeof index !== "number") {
    throw new DeviceKeyError(`${path} does not name its device, epoch and shard index`);
  }
  const secret = secretSchema.safeParse(
    JSON.parse(Buffer.from(await openSealedFile(path, envelope, passphrase)).toString("utf8")),
  );
  if (!secret.success) throw new DeviceKeyError(`${path} does not hold a shard and its salt`);
  return { deviceId, epoch, shard: { index, commitment: String(commitment), ...secret.data } };
}
