import type { SealSubmission } from "@gridmesh/chaincode/client";
import type { z } from "zod";

import {
  preparedAnswer,
  provisionedAnswer,
  revokedAnswer,
  sealedAnswer,
  statusAnswer,
  verificationAnswer,
  verifiersAnswer,
  type PreparedAnswer,
  type ProvisionedAnswer,
  type RevokedAnswer,
  type SealedAnswer,
  type StatusAnswer,
  type VerificationAnswer,
  type VerifiersAnswer,
} from "./gatewayIdentitySchemas.js";
import { GatewayIdentityError } from "./identityErrors.js";

export interface GatewayIdentityClientOptions {
  /** The gateway's base URL, e.g. `https://gateway.example` (the API is under `/v1/identity`). */
  url: string;
  /** Per request; a verification's second round trip runs Keychecker and an activation transaction. */
  timeoutMs?: number;
}

/** ProvisionIdentity's arguments as the device made and signed them (DeviceIdentity.provisionRequest). */
export interface ProvisionBody {
  deviceId: string;
  publicKey: string;
  meter: string;
  attributesHash: string;
  signature: string;
}

/** The device's seal (without its device id, which is in the path), the ciphertext and the n shards. */
export type SealBody = SealSubmission;

/**
 * The device side of the gateway's Secure ID API (docs/SECURE_ID.md, "Through the gateway"). Every
 * answer is validated; a refusal carries the gateway's own reason, which names the chaincode's or the
 * registry's (`SecureIdBadSignature`, `MeterRegistryNotEnrolled`, …).
 */
export class GatewayIdentityClient {
  readonly url: string;
  readonly #base: URL;
  readonly #timeoutMs: number;

  constructor(options: GatewayIdentityClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch (cause) {
      throw new GatewayIdentityError(`the gateway URL ${options.url} is not a URL`, { cause });
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new GatewayIdentityError(`the gateway URL ${options.url} must be http(s)`);
    }
    // Relative paths below resolve under the base, so a gateway behind a path prefix works.
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.#base = base;
    this.url = base.toString().replace(/\/$/, "");
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  verifiers(): Promise<VerifiersAnswer> {
    return this.#call("reading the verifier organisations", "GET", "v1/identity/verifiers", verifiersAnswer);
  }

  provision(body: ProvisionBody): Promise<ProvisionedAnswer> {
    return this.#call(
      `provisioning device ${body.deviceId}`,
      "POST",
      "v1/identity/devices",
      provisionedAnswer,
      body,
    );
  }

  seal(deviceId: string, body: SealBody): Promise<SealedAnswer> {
    return this.#call(
      `sealing device ${deviceId} (epoch ${body.epoch})`,
      "POST",
      `v1/identity/devices/${encodeURIComponent(deviceId)}/seal`,
      sealedAnswer,
      body,
    );
  }

  revoke(deviceId: string, body: { reason: string; signature: string }): Promise<RevokedAnswer> {
    return this.#call(
      `revoking device ${deviceId}`,
      "POST",
      `v1/identity/devices/${encodeURIComponent(deviceId)}/revocation`,
      revokedAnswer,
      body,
    );
  }

  /** Round trip one: the consent and challenge messages the gateway's Keychecker asks the device to sign. */
  prepareVerification(deviceId: string): Promise<PreparedAnswer> {
    return this.#call(
      `starting a verification of device ${deviceId}`,
      "POST",
      `v1/identity/devices/${encodeURIComponent(deviceId)}/verifications`,
      preparedAnswer,
    );
  }

  /** Round trip two: both signatures; resolves once the verdict is recorded, attested and the meter activated. */
  answerVerification(
    requestId: string,
    body: { consentSignature: string; challengeSignature: string },
  ): Promise<VerificationAnswer> {
    return this.#call(
      `verification ${requestId}`,
      "POST",
      `v1/identity/verifications/${encodeURIComponent(requestId)}/responses`,
      verificationAnswer,
      body,
    );
  }

  status(deviceId: string): Promise<StatusAnswer> {
    return this.#call(
      `reading device ${deviceId}`,
      "GET",
      `v1/identity/devices/${encodeURIComponent(deviceId)}`,
      statusAnswer,
    );
  }

  async #call<S extends z.ZodType>(
    doing: string,
    method: "GET" | "POST",
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>> {
    const url = new URL(path, this.#base);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      const why =
        (cause as Error).name === "TimeoutError" ? `no answer within ${this.#timeoutMs} ms` : describe(cause);
      throw new GatewayIdentityError(`${doing}: gateway ${this.url} did not answer: ${why}`, {
        retryable: true,
        cause,
      });
    }
    if (!response.ok) {
      throw new GatewayIdentityError(
        `${doing}: gateway ${this.url} answered ${response.status}: ${reasonOf(text)}`,
        { status: response.status, retryable: response.status >= 500 || response.status === 429 },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new GatewayIdentityError(
        `${doing}: gateway ${this.url} answered with something other than JSON`,
        {
          status: response.status,
          cause,
        },
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      throw new GatewayIdentityError(
        `${doing}: gateway ${this.url} answered in an unexpected form: ${issues.join("; ")}`,
        { status: response.status },
      );
    }
    return parsed.data;
  }
}

/** The gateway's `{ error }` message, or the start of whatever else it sent. */
function reasonOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON: a proxy's page, say
  }
  return text.slice(0, 300) || "(no body)";
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
    return `${e.message}${cause}`;
  }
  return String(e);
}
