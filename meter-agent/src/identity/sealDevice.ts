import { nowIso, type DeviceContext } from "./deviceContext.js";
import { writeDeviceShard } from "./deviceShardFile.js";
import { DeviceIdentityError } from "./identityErrors.js";

export interface SealDeviceParameters {
  /** Shards needed to rebuild the document key (default 2). */
  k?: number | undefined;
  /** Verifier organisations to hold a shard each; all the ledger's registered ones when absent. */
  verifiers?: readonly string[] | undefined;
}

export interface SealDeviceResult {
  deviceId: string;
  epoch: number;
  k: number;
  verifiers: string[];
  sealTxId: string;
  deposits: { verifierMsp: string; txId: string | null; error: string | null }[];
  /** Where the device's own shard is kept, sealed. */
  shardFile: string;
}

/**
 * Keymaker from the device: the kept identity document is encrypted under a fresh key, the key split
 * into n+1 shards (one per verifier organisation and one for the device), the seal signed, all on the
 * device; the gateway commits the seal and deposits each shard on its verifier's peer. The epoch is the
 * ledger's previous one plus one, so sealing again re-keys the identity.
 */
export async function sealDevice(
  ctx: DeviceContext,
  p: SealDeviceParameters = {},
): Promise<SealDeviceResult> {
  const { device, files, gateway } = ctx;
  const document = await files.readDocument();
  if (document === undefined) {
    throw new DeviceIdentityError(
      `no identity document in ${files.dir}: provision the device first (\`identity provision\`)`,
    );
  }
  if (document.deviceId !== device.deviceId) {
    throw new DeviceIdentityError(
      `${files.documentPath} is for device ${document.deviceId}, not ${device.deviceId}`,
    );
  }
  const [remote, registered] = await Promise.all([gateway.status(device.deviceId), gateway.verifiers()]);
  if (remote.status === "revoked") {
    throw new DeviceIdentityError(
      `device ${device.deviceId} was revoked (${remote.revocation?.reason}); it cannot be sealed`,
    );
  }
  const known = registered.verifiers.map((v) => v.mspId);
  const verifiers = p.verifiers === undefined ? known : [...p.verifiers];
  const unknown = verifiers.filter((v) => !known.includes(v));
  if (unknown.length > 0) {
    throw new DeviceIdentityError(
      `not registered verifier organisations: ${unknown.join(", ")} (registered: ${known.join(", ") || "none"})`,
    );
  }
  const k = p.k ?? 2;
  if (!Number.isInteger(k) || k < 2 || k > verifiers.length) {
    throw new DeviceIdentityError(
      `k must be an integer from 2 to ${verifiers.length} (the verifiers), not ${k}`,
    );
  }
  const epoch = (remote.seal?.epoch ?? 0) + 1;

  const { seal, ciphertext, shards, deviceShard } = await device.prepareSeal({
    document,
    verifiers,
    k,
    epoch,
  });
  const { deviceId: _inPath, ...sealed } = seal;
  const answer = await gateway.seal(device.deviceId, { ...sealed, ciphertext, shards });

  // Kept only once the seal stands: the shard of a seal the ledger refused would open nothing.
  const shardFile = files.shardPath(epoch);
  await writeDeviceShard(shardFile, {
    deviceId: device.deviceId,
    epoch,
    shard: deviceShard,
    passphrase: ctx.secrets.passphrase,
    scryptN: ctx.secrets.scryptN,
  });
  await files.updateState(device.deviceId, (s) => ({
    ...s,
    seal: {
      epoch,
      k,
      verifiers,
      sealTxId: answer.sealTxId,
      deposits: answer.deposits,
      shardFile,
      at: nowIso(ctx),
    },
  }));
  return {
    deviceId: device.deviceId,
    epoch,
    k,
    verifiers,
    sealTxId: answer.sealTxId,
    deposits: answer.deposits,
    shardFile,
  };
}
