import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import { listen, serverOrigin } from "../common/httpListen.js";
import type { AgentClock } from "../readings/clock.js";
import type { CommandExecutor } from "./commandExecutor.js";
import { CommandError, CommandMalformedError } from "./commandErrors.js";
import { verifyCommand, type CommandVerifierOptions } from "./verifyCommand.js";

/** The three methods of a pino logger the server uses. */
export interface CommandServerLogger {
  info(context: Record<string, unknown>, msg: string): void;
  warn(context: Record<string, unknown>, msg: string): void;
  error(context: Record<string, unknown>, msg: string): void;
}

export interface CommandServerOptions extends Omit<CommandVerifierOptions, "meter"> {
  /** Runs the commands; its store's meter is the one commands must be addressed to. */
  executor: CommandExecutor;
  /** Defaults to loopback: answering a network is a deliberate choice. */
  host?: string;
  /** 0 picks a free port (see `url` once listening). */
  port: number;
  /** 64 KiB by default: the largest command (1000 acknowledged sequences) is about 30 KB. */
  maxBodyBytes?: number;
  clock: Pick<AgentClock, "now">;
  log?: CommandServerLogger;
}

export const COMMANDS_PATH = "/v1/commands";

/** A refusal that is about HTTP rather than the command (route, method, size). */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * The meter agent's command endpoint: `POST /v1/commands` with a signed command in the wire form of
 * `@gridmesh/contracts` meterCommands. Answers `200 {command, nonce, result}`, or a 4xx
 * `{error: {name, message, details}}` that says what failed, in which case nothing was changed.
 * Plain HTTP: signatures make commands unforgeable and unreplayable, not secret.
 */
export class CommandServer {
  readonly #server: Server;
  readonly #o: CommandServerOptions & { maxBodyBytes: number; host: string };

  constructor(options: CommandServerOptions) {
    if (options.controllers.length === 0)
      throw new RangeError("command server: no controllers, nobody could use it");
    this.#o = { host: "127.0.0.1", maxBodyBytes: 65_536, ...options };
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // A client trickling a request in would otherwise hold a socket open indefinitely.
    this.#server.requestTimeout = 10_000;
    this.#server.headersTimeout = 5_000;
  }

  async listen(): Promise<string> {
    await listen(this.#server, this.#o.port, this.#o.host);
    return this.url;
  }

  /** The base URL, e.g. `http://127.0.0.1:41234`; only while listening. */
  get url(): string {
    return serverOrigin(this.#server, "command server");
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.#server.closeIdleConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?", 1)[0]!;
    const context: Record<string, unknown> = { method: req.method, path, remote: req.socket.remoteAddress };
    let reply: Reply;
    try {
      if (path !== COMMANDS_PATH)
        throw new HttpRefusal(404, "NotFound", `no route ${path}; commands go to ${COMMANDS_PATH}`);
      if (req.method !== "POST") {
        throw new HttpRefusal(405, "MethodNotAllowed", `${COMMANDS_PATH} takes POST`, { allow: "POST" });
      }
      const text = await readBody(req, this.#o.maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new CommandMalformedError("the body is not JSON");
      }
      const { executor, clock, log } = this.#o;
      const { request, authority } = verifyCommand(body, { ...this.#o, meter: executor.meter }, clock.now());
      Object.assign(context, {
        command: request.command,
        controller: authority.controller,
        nonce: `${authority.nonce}`,
      });
      const result = await executor.execute(request, authority);
      log?.info(context, "command executed");
      reply = { status: 200, body: { command: request.command, nonce: authority.nonce.toString(), result } };
    } catch (error) {
      reply = this.#refuse(error, context);
    }
    send(res, reply);
  }

  #refuse(error: unknown, context: Record<string, unknown>): Reply {
    const { log } = this.#o;
    if (error instanceof CommandError) {
      log?.warn({ ...context, error: error.name, reason: error.message }, "command refused");
      return {
        status: error.status,
        body: { error: { name: error.name, message: error.message, details: error.details } },
      };
    }
    if (error instanceof HttpRefusal) {
      log?.warn({ ...context, status: error.status, reason: error.message }, "request refused");
      return {
        status: error.status,
        headers: error.headers,
        body: { error: { name: error.name, message: error.message, details: {} } },
      };
    }
    // Whatever failed rolled its transaction back; the message stays in the log, not on the wire.
    log?.error({ ...context, err: error }, "command failed");
    return {
      status: 500,
      body: { error: { name: "InternalError", message: "the command failed inside the agent", details: {} } },
    };
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpRefusal(413, "PayloadTooLarge", `the body exceeds ${maxBytes} bytes`, { connection: "close" });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Drain the rest unread so the answer can still be written on this socket.
        req.off("data", onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...reply.headers,
  });
  res.end(text);
}
