import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { KeyObject } from "node:crypto";

import type { Battery, Clock } from "../battery.js";
import { BalError, BatteryAuthError, BatteryRangeError, BatteryUnavailableError } from "../errors.js";
import { NonceCache } from "./nonceCache.js";
import { batteryList, describeIssues, setCurrentBody } from "./protocol.js";
import { sharedSecret } from "./sharedSecret.js";
import { authHeaders, keyIdPattern, responseSignature } from "./signing.js";
import { listen, serverOrigin } from "../../common/httpListen.js";
import { verifyRequest, type ClientKey } from "./verifyRequest.js";

export interface BatteryServerKey {
  /** The secret shared with this client (at least 32 characters). */
  readonly secret: string;
  /** The batteries this client may read and command; all of them when absent. */
  readonly batteries?: readonly string[];
}

/** The two methods of a pino logger the server uses; it logs what it refused, never a secret. */
export interface BatteryServerLogger {
  warn(context: Record<string, unknown>, msg: string): void;
  error(context: Record<string, unknown>, msg: string): void;
}

export interface BatteryServerOptions {
  /** Physical or virtual, each served under its own name. */
  readonly batteries: readonly Battery[];
  /** Key id → the client's key. */
  readonly keys: Readonly<Record<string, BatteryServerKey>>;
  /** Defaults to the loopback address: exposing batteries to a network is a deliberate choice. */
  readonly host?: string;
  /** 0 picks a free port (see `url` once listening). */
  readonly port: number;
  /** Accepted clock difference between a client and the server, either way; 30 s by default. */
  readonly window?: number;
  /** Nonces remembered at most; 100 000 by default, a few MB, about 1 600 requests a second. */
  readonly maxNonces?: number;
  readonly maxBodyBytes?: number;
  /** For request timestamps; the batteries keep their own clocks. */
  readonly clock?: Clock;
  readonly logger?: BatteryServerLogger;
}

/** An error answer with its status, thrown from deep in a request's handling. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    /** The error class the client raises for it. */
    readonly errorName: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** The key and nonce an answer is signed with, once the request has proved who sent it. */
interface Signer {
  readonly key: KeyObject;
  readonly nonce: string;
}

const batteryRoute = /^\/batteries\/([^/]+)\/(status|current)$/;

/**
 * Serves batteries over HTTP (seed 004, "networked battery": "one BOS node that has three BMSes
 * which it combines into a single aggregate battery can provide access to this aggregate battery
 * over a network"); `NetworkedBattery` is the other end. Routes are listed in `protocol.ts`.
 *
 * Every request must be signed with a client's key (`signing.ts`) within the timestamp window and
 * with a nonce the server has not seen; answers are signed back. Plain HTTP: the signatures make
 * requests and answers unforgeable and unreplayable, but not secret — put it behind TLS or a VPN
 * where the values themselves must not be read on the way.
 */
export class BatteryServer {
  readonly #server: Server;
  readonly #batteries = new Map<string, Battery>();
  readonly #keys = new Map<string, ClientKey>();
  readonly #nonces: NonceCache;
  readonly #host: string;
  readonly #port: number;
  readonly #window: number;
  readonly #maxBodyBytes: number;
  readonly #clock: Clock;
  readonly #logger: BatteryServerLogger | undefined;

  constructor(options: BatteryServerOptions) {
    const problems: string[] = [];
    for (const battery of options.batteries) {
      if (this.#batteries.has(battery.name)) problems.push(`battery "${battery.name}" is listed twice`);
      this.#batteries.set(battery.name, battery);
    }
    for (const [keyId, { secret, batteries }] of Object.entries(options.keys)) {
      if (!keyIdPattern.test(keyId)) {
        problems.push(`key id "${keyId}" must be 1 to 64 letters, digits, dots, dashes or underscores`);
        continue;
      }
      for (const name of batteries ?? []) {
        if (!this.#batteries.has(name)) problems.push(`key "${keyId}": no battery named "${name}"`);
      }
      try {
        const key = sharedSecret(secret, `key "${keyId}"`);
        this.#keys.set(keyId, { keyId, key, ...(batteries && { batteries: new Set(batteries) }) });
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (this.#keys.size === 0 && problems.length === 0) problems.push("no client keys: nobody could use it");
    if (problems.length > 0) throw new RangeError(`battery server: ${problems.join("; ")}`);

    this.#host = options.host ?? "127.0.0.1";
    this.#port = options.port;
    this.#window = options.window ?? 30_000;
    this.#maxBodyBytes = options.maxBodyBytes ?? 4096;
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger;
    this.#nonces = new NonceCache(options.maxNonces ?? 100_000, this.#window);
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // A client that trickles a request in would otherwise hold a socket and a body buffer forever.
    this.#server.requestTimeout = 10_000;
    this.#server.headersTimeout = 5_000;
  }

  /** Starts listening; resolves with the base URL clients use. */
  async listen(): Promise<string> {
    await listen(this.#server, this.#port, this.#host);
    return this.url;
  }

  /** The base URL, e.g. `http://127.0.0.1:41234/`; only while listening. */
  get url(): string {
    return `${serverOrigin(this.#server, "battery server")}/`;
  }

  /**
   * Stops accepting connections and resolves once the requests under way are answered. Closing a
   * server that is not listening does nothing, so shutdown paths need not track it.
   */
  close(): Promise<void> {
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.#server.closeIdleConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "";
    const path = req.url ?? "";
    let signer: Signer | undefined;
    let reply: Reply;
    try {
      const body = await readBody(req, this.#maxBodyBytes);
      const now = this.#clock();
      const { client, nonce, timestamp } = verifyRequest(
        { method, path, headers: req.headers, body },
        this.#keys,
        this.#window,
        now,
      );
      signer = { key: client.key, nonce };
      // Claimed only now: a forged request must not be able to fill the cache.
      const claim = this.#nonces.claim(client.keyId, nonce, timestamp + this.#window, now);
      if (claim === "replayed") {
        throw new BatteryAuthError("nonce already used: the request is a replay", { keyId: client.keyId });
      }
      if (claim === "full") {
        const retryAfter = { "retry-after": String(Math.ceil(this.#window / 1000)) };
        const message = "too many requests in the replay window";
        throw new Refusal(503, "BatteryUnavailableError", message, {}, retryAfter);
      }
      reply = await this.#route(method, path, body, client);
    } catch (error) {
      reply = this.#refuse(error, { method, path, remote: req.socket.remoteAddress });
    }
    send(res, reply, signer);
  }

  async #route(method: string, path: string, body: Buffer, client: ClientKey): Promise<Reply> {
    const pathname = path.split("?", 1)[0]!;
    if (pathname === "/batteries") {
      allowOnly(method, "GET");
      const names = [...this.#batteries.keys()].filter((n) => client.batteries?.has(n) ?? true);
      return { status: 200, body: batteryList.parse({ batteries: names }) };
    }
    const match = batteryRoute.exec(pathname);
    if (match === null) throw new Refusal(404, "BatteryProtocolError", `no route ${pathname}`);
    const battery = this.#battery(match[1]!, client);
    if (match[2] === "status") {
      allowOnly(method, "GET");
      return { status: 200, body: await operate(battery, "read status", () => battery.getStatus()) };
    }
    allowOnly(method, "PUT");
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new Refusal(400, "BatteryProtocolError", "the body is not JSON");
    }
    const parsed = setCurrentBody.safeParse(json);
    if (!parsed.success) throw new Refusal(400, "BatteryProtocolError", describeIssues(parsed.error));
    const { current } = parsed.data;
    await operate(battery, `set current ${current} A`, () => battery.setCurrent(current));
    return { status: 204 };
  }

  #battery(encoded: string, client: ClientKey): Battery {
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      throw new Refusal(400, "BatteryProtocolError", "the battery name is not valid percent-encoding");
    }
    const battery = this.#batteries.get(name);
    if (battery === undefined) throw new Refusal(404, "BatteryProtocolError", `no battery named "${name}"`);
    if (client.batteries !== undefined && !client.batteries.has(name)) {
      throw new Refusal(403, "BatteryAuthError", `key "${client.keyId}" may not use battery "${name}"`, {
        keyId: client.keyId,
        battery: name,
      });
    }
    return battery;
  }

  #refuse(error: unknown, request: Record<string, unknown>): Reply {
    const { status, errorName: name, message, details, headers } = toRefusal(error);
    if (status === 401 || status === 403) {
      this.#logger?.warn({ ...request, ...details, status, reason: message }, "battery request refused");
    } else if (status === 500) {
      this.#logger?.error({ ...request, err: error }, "battery request failed");
    }
    return { status, body: { error: { name, message, details } }, headers };
  }
}

function toRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error;
  // Thrown by verifyRequest or the nonce check only: a battery's own errors went through operate().
  if (error instanceof BatteryAuthError) return new Refusal(401, error.name, error.message, error.details);
  if (error instanceof BatteryRangeError) return new Refusal(422, error.name, error.message, error.details);
  if (error instanceof BatteryUnavailableError) {
    return new Refusal(503, error.name, error.message, error.details);
  }
  // Unexpected: its message may say more than a client should see, so it goes to the log only.
  return new Refusal(500, "BalError", "internal error");
}

/**
 * Runs a battery operation, keeping a range error a range error. Any other BAL error — say a
 * networked battery behind this server refused by the next server — means the battery is
 * unavailable to this client; passed on as is, it would read as a verdict on the client's own key.
 */
async function operate<T>(battery: Battery, action: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof BatteryRangeError || error instanceof BatteryUnavailableError) throw error;
    if (error instanceof BalError) throw new BatteryUnavailableError(battery.name, action, error);
    throw error;
  }
}

function allowOnly(method: string, allowed: string): void {
  if (method !== allowed) {
    const message = `method ${method} not allowed, use ${allowed}`;
    throw new Refusal(405, "BatteryProtocolError", message, {}, { allow: allowed });
  }
}

/** The whole body, or a 413 once past `limit`; the rest is read and dropped to keep the socket usable. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    }
  } catch (cause) {
    // The client went away mid-body: its fault, not the server's, and nobody reads the answer.
    throw new Refusal(400, "BatteryProtocolError", "the request was cut off", { cause: String(cause) });
  }
  if (size > limit) throw new Refusal(413, "BatteryProtocolError", `the body exceeds ${limit} bytes`);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply, signer: Signer | undefined): void {
  const body = Buffer.from(reply.body === undefined ? "" : JSON.stringify(reply.body), "utf8");
  const headers: Record<string, string> = { ...reply.headers };
  if (body.length > 0) headers["content-type"] = "application/json";
  if (signer !== undefined) {
    const signature = responseSignature(signer.key, { nonce: signer.nonce, status: reply.status, body });
    headers[authHeaders.signature] = signature.toString("hex");
  }
  res.writeHead(reply.status, headers).end(body);
}
