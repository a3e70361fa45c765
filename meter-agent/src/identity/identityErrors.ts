import { AgentError } from "../common/agentError.js";

/** The device key or another sealed identity file cannot be created, read or opened; never names a secret. */
export class DeviceKeyError extends AgentError {
  override readonly name = "DeviceKeyError";
}

/**
 * The device's identity cannot do what was asked: not provisioned or revoked, a parameter the ledger
 * would refuse, or the agent's identity files (document, state) missing, damaged or contradicting it.
 */
export class DeviceIdentityError extends AgentError {
  override readonly name = "DeviceIdentityError";
}

/**
 * The device refuses to sign what it was asked to: a message for another device, of another type, or
 * not the one its own fields describe. Signing blindly would let a relay spend the device's consent.
 */
export class DeviceMessageError extends AgentError {
  override readonly name = "DeviceMessageError";
}

/** The gateway's identity API failed or refused; `status` is the HTTP status (undefined: no answer). */
export class GatewayIdentityError extends AgentError {
  override readonly name = "GatewayIdentityError";
  readonly status: number | undefined;

  constructor(
    message: string,
    options: {
      status?: number;
      retryable?: boolean;
      cause?: unknown;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message, options);
    this.status = options.status;
  }
}
