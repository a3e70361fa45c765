import type { KeyObject } from "node:crypto";

import type { Battery, BatteryStatus, Clock } from "../battery.js";
import {
  BatteryAuthError,
  BatteryProtocolError,
  BatteryRangeError,
  BatteryUnavailableError,
} from "../errors.js";
import { batteryPath, batteryStatus, describeIssues, errorBody, rangeDetails } from "./protocol.js";
import { sharedSecret } from "./sharedSecret.js";
import { authHeaders, keyIdPattern, responseSignature, signatureMatches, signRequest } from "./signing.js";

export interface NetworkedBatteryOptions {
  /** The battery server's base URL, e.g. `http://10.0.0.2:7400/`. */
  readonly url: string;
  /** The battery's name on the server; by default the same as here. */
  readonly remoteName?: string;
  readonly keyId: string;
  /** The secret shared with the server for `keyId` (at least 32 characters). */
  readonly secret: string;
  /** Longest wait for a whole answer, in milliseconds; 5 s by default. */
  readonly timeout?: number;
  /** For request timestamps; must agree with the server's within its window. */
  readonly clock?: Clock;
}

/**
 * A battery on another node, reached over the BAL protocol of `BatteryServer` (seed 004's
 * "networked battery … a way to control a BAL device over a network"). It is a `Battery` like any
 * other, so aggregates and splitters take it as a member and topologies span nodes.
 *
 * It never answers from memory: a battery it cannot reach, or whose answer is not signed with the
 * shared key, raises an error naming the battery and the cause, and an aggregate counts it as
 * offline. A range error on the server is raised here as a `BatteryRangeError` too.
 */
export class NetworkedBattery implements Battery {
  readonly #base: URL;
  readonly #remoteName: string;
  readonly #keyId: string;
  readonly #key: KeyObject;
  readonly #timeout: number;
  readonly #clock: Clock;

  constructor(
    readonly name: string,
    options: NetworkedBatteryOptions,
  ) {
    const base = URL.parse(options.url);
    if (base === null || (base.protocol !== "http:" && base.protocol !== "https:")) {
      throw new RangeError(`battery "${name}": url must be an http:// or https:// URL, got "${options.url}"`);
    }
    // Credentials in a URL would end up in every error message that names the server.
    if (base.username !== "" || base.password !== "") {
      throw new RangeError(`battery "${name}": url must not carry a user name or password`);
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    if (!keyIdPattern.test(options.keyId)) {
      throw new RangeError(
        `battery "${name}": key id must be 1 to 64 letters, digits, dots, dashes or underscores`,
      );
    }
    const timeout = options.timeout ?? 5000;
    if (!(Number.isFinite(timeout) && timeout > 0)) {
      throw new RangeError(
        `battery "${name}": timeout must be a positive number of milliseconds, got ${timeout}`,
      );
    }
    this.#base = base;
    this.#remoteName = options.remoteName ?? name;
    this.#keyId = options.keyId;
    this.#key = sharedSecret(options.secret, `battery "${name}"`);
    this.#timeout = timeout;
    this.#clock = options.clock ?? Date.now;
  }

  async getStatus(): Promise<BatteryStatus> {
    const json = await this.#request("GET", "status", undefined, "read status");
    const parsed = batteryStatus.safeParse(json);
    if (!parsed.success) {
      throw new BatteryProtocolError(
        `battery "${this.name}": ${this.#base.href} sent a malformed status: ${describeIssues(parsed.error)}`,
        { battery: this.name, url: this.#base.href },
      );
    }
    return parsed.data;
  }

  async setCurrent(current: number): Promise<void> {
    // JSON has no NaN or Infinity; refused here as a local battery would refuse them.
    if (!Number.isFinite(current)) throw new BatteryRangeError(this.name, current, 0, "discharge");
    await this.#request("PUT", "current", { current }, `set current ${current} A`);
  }

  async #request(
    method: "GET" | "PUT",
    resource: "status" | "current",
    body: { current: number } | undefined,
    action: string,
  ): Promise<unknown> {
    const url = new URL(batteryPath(this.#remoteName, resource), this.#base);
    const text = body === undefined ? "" : JSON.stringify(body);
    const auth = signRequest(
      this.#keyId,
      this.#key,
      { method, path: url.pathname + url.search, body: text },
      this.#clock,
    );
    const where = { battery: this.name, url: this.#base.href };

    let status: number;
    let bytes: Buffer;
    let signature: string | null;
    try {
      const response = await fetch(url, {
        method,
        headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
        ...(body !== undefined && { body: text }),
        // A redirect would change the signed path; the server never sends one.
        redirect: "error",
        signal: AbortSignal.timeout(this.#timeout),
      });
      status = response.status;
      signature = response.headers.get(authHeaders.signature);
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === "TimeoutError";
      const reason = timedOut
        ? `no answer from ${this.#base.href} within ${this.#timeout} ms` +
          (method === "PUT" ? " (the command may or may not have been applied)" : "")
        : `cannot reach ${this.#base.href}: ${innermostMessage(cause)}`;
      throw new BatteryUnavailableError(this.name, action, new Error(reason, { cause }), {
        ...where,
        timedOut,
      });
    }

    // A 401 may come before the server knows which key to sign with; any other answer, including
    // every error that carries values, must prove it comes from the holder of the shared key.
    if (status !== 401) {
      const expected = responseSignature(this.#key, { nonce: auth[authHeaders.nonce]!, status, body: bytes });
      if (signature === null || !signatureMatches(expected, signature)) {
        throw new BatteryAuthError(
          `battery "${this.name}": the answer from ${this.#base.href} is not signed with key "${this.#keyId}"`,
          { ...where, keyId: this.#keyId, status },
        );
      }
    }

    let json: unknown;
    try {
      json = bytes.length === 0 ? undefined : JSON.parse(bytes.toString("utf8"));
    } catch (cause) {
      throw new BatteryProtocolError(
        `battery "${this.name}": ${this.#base.href} answered ${status} with a body that is not JSON`,
        { ...where, status },
        cause,
      );
    }
    if (status >= 200 && status < 300) return json;
    throw this.#remoteError(status, json, action, body?.current);
  }

  /** Raises a server's refusal as the error class a local battery would have raised. */
  #remoteError(status: number, json: unknown, action: string, requested: number | undefined): Error {
    const where = { battery: this.name, url: this.#base.href, status };
    const parsed = errorBody.safeParse(json);
    if (!parsed.success) {
      return new BatteryProtocolError(
        `battery "${this.name}": ${this.#base.href} answered ${status} without an error description`,
        where,
      );
    }
    const remote = parsed.data.error;
    const remoteCause = new Error(`${this.#base.href}: ${remote.message}`);
    if (status === 422) {
      const range = rangeDetails.safeParse(remote.details);
      if (range.success) {
        const { limit, direction } = range.data;
        return new BatteryRangeError(this.name, requested ?? range.data.requested, limit, direction, {
          cause: remoteCause,
          details: { url: this.#base.href, remoteBattery: range.data.battery },
        });
      }
    }
    if (status === 401 || status === 403) {
      return new BatteryAuthError(
        `battery "${this.name}": ${this.#base.href} refused key "${this.#keyId}": ${remote.message}`,
        { ...where, keyId: this.#keyId },
      );
    }
    if (status >= 500) return new BatteryUnavailableError(this.name, action, remoteCause, where);
    return new BatteryProtocolError(
      `battery "${this.name}": ${this.#base.href} refused the request (${status}): ${remote.message}`,
      where,
    );
  }
}

/** fetch wraps the socket error ("connect ECONNREFUSED …") in a generic "fetch failed". */
function innermostMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
