import { revokeMessage } from "@gridmesh/chaincode/client";

import { nowIso, type DeviceContext } from "./deviceContext.js";
import type { RevokedAnswer } from "./gatewayIdentitySchemas.js";

/**
 * Revokes the device's identity with its own signature: final on the ledger, and the meter it was
 * bound to is freed. A device that comes back needs a new key.
 */
export async function revokeDevice(ctx: DeviceContext, reason: string): Promise<RevokedAnswer> {
  const { device, files, gateway } = ctx;
  const signature = device.sign(revokeMessage({ deviceId: device.deviceId, reason }));
  const answer = await gateway.revoke(device.deviceId, { reason, signature });
  await files.updateState(device.deviceId, (s) => ({
    ...s,
    revoked: { reason: answer.reason, txId: answer.txId, at: nowIso(ctx) },
  }));
  return answer;
}
