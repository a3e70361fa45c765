import type { VerificationAnswer } from "./gatewayIdentitySchemas.js";
import { nowIso, type DeviceContext } from "./deviceContext.js";
import { GatewayIdentityError } from "./identityErrors.js";
import { signVerification } from "./verificationMessages.js";

export interface VerifyDeviceResult extends VerificationAnswer {
  epoch: number;
  verdict: "verified";
}

/**
 * Keychecker through the gateway, from the device's side: round trip one brings the consent and
 * challenge messages, which the device checks (its own id, the right types, its owner as requester, its
 * seal's epoch) before it signs them; round trip two sends both signatures and returns once the verdict
 * is on the ledger, attested by the verifier organisations, and the meter activated in MeterRegistry.
 * Whatever the outcome, the agent records the gateway's account of it.
 */
export async function verifyDevice(ctx: DeviceContext): Promise<VerifyDeviceResult> {
  const { device, files, gateway } = ctx;
  const state = await files.readState(device.deviceId);
  const prepared = await gateway.prepareVerification(device.deviceId);
  const signed = await signVerification(device, prepared, {
    requesterMsp: state.provisioned?.ownerMsp,
    epoch: state.seal?.epoch,
  });
  let answer: VerificationAnswer;
  try {
    answer = await gateway.answerVerification(prepared.requestId, {
      consentSignature: signed.consentSignature,
      challengeSignature: signed.challengeSignature,
    });
  } catch (error) {
    if (error instanceof GatewayIdentityError && error.status !== undefined) {
      await recordOutcome(ctx, prepared.requestId, prepared.epoch, error.message);
    }
    throw error;
  }
  await files.updateState(device.deviceId, (s) => ({
    ...s,
    lastVerification: {
      requestId: answer.requestId,
      epoch: prepared.epoch,
      outcome: "verified",
      verdictTxId: answer.verdictTxId,
      activation: answer.activation,
      error: null,
      at: nowIso(ctx),
    },
  }));
  return { ...answer, epoch: prepared.epoch, verdict: "verified" };
}

/**
 * A refused verification may still have a verdict (failed, or successful with the activation refused):
 * the gateway's status says which, and that is what the agent keeps.
 */
async function recordOutcome(
  ctx: DeviceContext,
  requestId: string,
  epoch: number,
  error: string,
): Promise<void> {
  const remote = await ctx.gateway.status(ctx.device.deviceId).catch(() => undefined);
  const last = remote?.lastVerification?.requestId === requestId ? remote.lastVerification : undefined;
  await ctx.files.updateState(ctx.device.deviceId, (s) => ({
    ...s,
    lastVerification: {
      requestId,
      epoch,
      outcome: last?.status === "verified" ? "verified" : "not-verified",
      verdictTxId: last?.verdictTxId ?? null,
      activation: last?.activation ?? null,
      error,
      at: nowIso(ctx),
    },
  }));
}
