import type { Signer } from "ethers";

import {
  buildMeterCommand,
  meterCommandDomain,
  meterCommandTypes,
  mutableTypes,
  signedMeterCommandToJson,
  type Address,
  type Clock,
  type Hex,
  type MeterCommandName,
  type MeterCommandParamsInput,
} from "@gridmesh/contracts";

import { MeterRefusedError, MeterUnreachableError } from "./controllerErrors.js";

/** Where a meter agent takes commands: `POST <url>/v1/commands` (meter-agent commandServer.ts). */
export const AGENT_COMMANDS_PATH = "/v1/commands";

export interface MeterEndpoint {
  meter: Address;
  /** The agent's command server base URL. */
  url: string;
}

/** Where nonces come from: strictly increasing across every command and every restart. */
export interface NonceSource {
  nextNonce(): bigint;
  raiseNonceAbove(nonce: bigint): void;
}

export interface MeterLinkOptions {
  signer: Pick<Signer, "signTypedData">;
  chainId: bigint;
  nonces: NonceSource;
  /** The clock expiries are signed on: the wall clock, as agents check them. */
  clock: Clock;
  lifetimeSeconds: number;
  /** Wall-clock bound on one request. */
  timeoutMs: number;
  /** Aborted when the controller stops, so that no request outlives it. */
  signal?: AbortSignal;
}

/** Sending the same command again after these answers can succeed: a resynced nonce, a fresh expiry. */
const MAX_RESENDS = 3;

const types = mutableTypes(meterCommandTypes);

/**
 * Signs commands for meter agents (EIP-712, seed 000 §2.1.3) and sends them over HTTP. The caller
 * sends one command at a time per meter: nonces are taken at signing, so two commands in flight to
 * one meter could arrive out of order and the later nonce would make the agent refuse the other.
 */
export class MeterLink {
  readonly #o: MeterLinkOptions;

  constructor(options: MeterLinkOptions) {
    this.#o = options;
  }

  /**
   * Sends `command` and returns the agent's `result`. A replay refusal (the agent has seen a higher
   * nonce of ours, e.g. signed before the controller's database was restored) moves the nonce above
   * it and resends; an expiry refusal resends with a fresh expiry. Throws `MeterUnreachableError`
   * when the agent may take it later and `MeterRefusedError` when it never will.
   */
  async send<K extends MeterCommandName>(
    endpoint: MeterEndpoint,
    command: K,
    params: MeterCommandParamsInput<K>,
  ): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const answer = await this.#post(endpoint, command, params);
      if (answer.ok) return answer.result;
      const { status, error } = answer;
      if (attempt < MAX_RESENDS && status === 409 && error.name === "CommandReplayedError") {
        const last = error.details.lastNonce;
        if (typeof last === "string" && /^[0-9]{1,20}$/.test(last)) {
          this.#o.nonces.raiseNonceAbove(BigInt(last));
          continue;
        }
      }
      if (attempt < MAX_RESENDS && status === 410) continue;
      throw new MeterRefusedError(endpoint.meter, command, status, error.name, error.message, error.details);
    }
  }

  async #post<K extends MeterCommandName>(
    endpoint: MeterEndpoint,
    command: K,
    params: MeterCommandParamsInput<K>,
  ): Promise<Answer> {
    const { signer, chainId, nonces, clock, lifetimeSeconds, timeoutMs, signal } = this.#o;
    const expiresAt = BigInt(Math.floor(clock.now() / 1000) + lifetimeSeconds);
    const message = buildMeterCommand(endpoint.meter, nonces.nextNonce(), expiresAt, command, params);
    const signature = (await signer.signTypedData(meterCommandDomain(chainId), types, message)) as Hex;
    const timeout = AbortSignal.timeout(timeoutMs);
    const unreachable = (what: string, cause?: unknown) =>
      new MeterUnreachableError(endpoint.meter, command, `${what} (${endpoint.url})`, cause);

    let status: number;
    let text: string;
    try {
      const res = await fetch(endpoint.url.replace(/\/+$/, "") + AGENT_COMMANDS_PATH, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(signedMeterCommandToJson({ command: message, signature })),
        signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
      });
      status = res.status;
      text = await res.text();
    } catch (cause) {
      const reason = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : `cannot reach the agent: ${describe(cause)}`;
      throw unreachable(reason, cause);
    }
    if (status >= 500) throw unreachable(`the agent failed with ${status}: ${text.slice(0, 200)}`);

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw unreachable(`the agent answered ${status} with something that is not JSON`, cause);
    }
    if (status >= 200 && status < 300) {
      if (typeof body !== "object" || body === null || !("result" in body))
        throw unreachable(`the agent answered ${status} without a result`);
      return { ok: true, result: body.result };
    }
    const e = (body as { error?: { name?: unknown; message?: unknown; details?: unknown } }).error;
    return {
      ok: false,
      status,
      error: {
        name: typeof e?.name === "string" ? e.name : `HTTP ${status}`,
        message: typeof e?.message === "string" ? e.message : text.slice(0, 200),
        details:
          typeof e?.details === "object" && e.details !== null ? (e.details as Record<string, unknown>) : {},
      },
    };
  }
}

type Answer =
  | { ok: true; result: unknown }
  | { ok: false; status: number; error: { name: string; message: string; details: Record<string, unknown> } };

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
