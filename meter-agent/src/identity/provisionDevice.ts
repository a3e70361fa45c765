import type { IdentityDocument } from "@gridmesh/chaincode/client";

import { nowIso, type DeviceContext } from "./deviceContext.js";
import { GatewayIdentityError, DeviceIdentityError } from "./identityErrors.js";

export interface ProvisionDeviceParameters {
  /** The owner organisation; the gateway's own (GET /v1/identity/verifiers) when absent, refused if different. */
  ownerMsp?: string | undefined;
  attributes: IdentityDocument["attributes"];
}

export interface ProvisionDeviceResult {
  deviceId: string;
  meter: string;
  ownerMsp: string;
  txId: string;
  /** Whether the ledger already held this identity (a provisioning interrupted after it reached the ledger). */
  alreadyProvisioned: boolean;
  document: string;
}

/**
 * Registers the device key on the Secure ID ledger through the gateway, bound to the agent's meter and
 * owned by the gateway's organisation. The identity document is kept before it is sent, so a run that
 * stops half-way can be repeated with the same attributes; a document the gateway refuses is dropped.
 */
export async function provisionDevice(
  ctx: DeviceContext,
  p: ProvisionDeviceParameters,
): Promise<ProvisionDeviceResult> {
  const { device, files, gateway } = ctx;
  const state = await files.readState(device.deviceId);
  if (state.revoked !== undefined) {
    throw new DeviceIdentityError(
      `device ${device.deviceId} was revoked (${state.revoked.reason}); it needs a new key`,
    );
  }
  if (state.provisioned !== undefined) {
    throw new DeviceIdentityError(
      `device ${device.deviceId} is already provisioned (tx ${state.provisioned.txId} through ` +
        `${state.provisioned.gateway}); see \`identity status\``,
    );
  }
  const { ownerMsp: gatewayOrg } = await gateway.verifiers();
  if (p.ownerMsp !== undefined && p.ownerMsp !== gatewayOrg) {
    throw new DeviceIdentityError(
      `the gateway ${gateway.url} provisions for ${gatewayOrg}, not ${p.ownerMsp}: the ledger would refuse the ` +
        "device's signature",
    );
  }
  const ownerMsp = p.ownerMsp ?? gatewayOrg;
  const { document, request } = device.provisionRequest({
    meter: ctx.meter,
    ownerMsp,
    attributes: p.attributes,
  });
  const kept = await files.keepDocument(document);

  let txId: string;
  let alreadyProvisioned = false;
  try {
    txId = (await gateway.provision(request)).txId;
  } catch (error) {
    const status = error instanceof GatewayIdentityError ? error.status : undefined;
    if (status === 409) {
      const adopted = await adoptExisting(ctx, ownerMsp);
      if (adopted === undefined) throw error;
      txId = adopted;
      alreadyProvisioned = true;
    } else {
      if (kept === "created" && status !== undefined && status >= 400 && status < 500 && status !== 429) {
        await files.forgetDocument();
      }
      throw error;
    }
  }
  await files.updateState(device.deviceId, (s) => ({
    ...s,
    provisioned: { gateway: gateway.url, ownerMsp, meter: ctx.meter, txId, at: nowIso(ctx) },
  }));
  return {
    deviceId: device.deviceId,
    meter: ctx.meter,
    ownerMsp,
    txId,
    alreadyProvisioned,
    document: files.documentPath,
  };
}

/**
 * The ledger refused a second provisioning: if it already holds this key bound to this meter and owner
 * (the first attempt got through, its answer did not), that identity is this one.
 */
async function adoptExisting(ctx: DeviceContext, ownerMsp: string): Promise<string | undefined> {
  const remote = await ctx.gateway.status(ctx.device.deviceId).catch(() => undefined);
  const same =
    remote !== undefined &&
    remote.status === "active" &&
    remote.publicKey === ctx.device.publicKey &&
    remote.meter === ctx.meter &&
    remote.ownerMsp === ownerMsp;
  return same ? remote.provisionTxId : undefined;
}
