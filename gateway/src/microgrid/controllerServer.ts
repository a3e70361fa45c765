import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import type { Logger } from "pino";

import type { Clock } from "@gridmesh/contracts";

import { ApiError, issuesOf, type ApiIssue } from "../api/apiError.js";
import { readJsonBody, sendJson } from "../api/httpIo.js";
import { listen } from "../common/listen.js";
import {
  CONTROLLER_API,
  HOUR_MS,
  controllerCommandSchema,
  hourOf,
  hourSchema,
  hourStartMs,
  usageHoursQuerySchema,
  type AckResponse,
  type ControllerCommand,
  type ControllerCommandResponse,
  type ControllerStatus,
  type UsageHourResponse,
  type UsageHoursResponse,
} from "./controllerApi.js";
import { USAGE_RETENTION_MS, type UsageFiles } from "./usageFiles.js";

export interface ControllerServerOptions {
  controllerId: string;
  /** Hex SHA-256 of the utility's bearer token. */
  tokenSha256: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  clock: Clock;
  usage: Pick<UsageFiles, "list" | "read" | "markBackup">;
  /** Process_utility_commands: store and forward; called only with a valid command. */
  command: (command: ControllerCommand) => ControllerCommandResponse;
  status: () => ControllerStatus;
  /**
   * An authenticated usage or command request proves the utility is up. A status read does not:
   * operators and monitors read it with the same token while the utility may well be down.
   */
  onUtilityContact: () => void;
  logger: Logger;
  /** 64 KiB by default; the largest command is a few hundred bytes. */
  maxBodyBytes?: number;
}

/** A refusal: its status, a name the utility can branch on, and details such as the bad fields. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The controller's HTTP interface for the central utility (Send_data_to_utility and
 * Process_utility_commands, seed 000 §2.1.2), as controllerApi.ts defines it. Every request needs
 * the utility's bearer token, checked in constant time against its configured SHA-256. Refusals
 * are `{error: {name, message, details}}`; a 4xx has changed nothing.
 */
export class ControllerServer {
  readonly #o: ControllerServerOptions;
  readonly #server: Server;
  readonly #tokenDigest: Buffer;
  #url: string | undefined;

  constructor(options: ControllerServerOptions) {
    this.#o = options;
    this.#tokenDigest = Buffer.from(options.tokenSha256, "hex");
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // A client trickling a request would otherwise hold a socket open indefinitely.
    this.#server.requestTimeout = 30_000;
    this.#server.headersTimeout = 10_000;
  }

  async listen(): Promise<string> {
    this.#url = await listen(this.#server, this.#o.host, this.#o.port);
    return this.#url;
  }

  get url(): string {
    if (this.#url === undefined) throw new Error("the controller's HTTP server is not listening");
    return this.#url;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.#server.closeIdleConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://controller");
    const context = { method: req.method, path: url.pathname };
    try {
      this.#authenticate(req);
      if (url.pathname !== CONTROLLER_API.status) this.#o.onUtilityContact();
      const { status, body } = await this.#route(req, url);
      sendJson(res, status, body);
    } catch (error) {
      // Only refusals reach the utility verbatim; anything else stays in the log.
      const refusal =
        error instanceof Refusal
          ? error
          : new Refusal(500, "InternalError", "the controller failed to answer; see its log");
      if (refusal.status >= 500) this.#o.logger.error({ ...context, err: error }, "utility request failed");
      else
        this.#o.logger.warn(
          { ...context, status: refusal.status, reason: refusal.message },
          "utility request refused",
        );
      sendJson(
        res,
        refusal.status,
        { error: { name: refusal.name, message: refusal.message, details: refusal.details } },
        refusal.headers,
      );
    }
  }

  #authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization;
    const token = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
    const challenge = { "www-authenticate": 'Bearer realm="gridmesh-controller"' };
    if (token === undefined)
      throw new Refusal(401, "Unauthorized", "requests need Authorization: Bearer <token>", {}, challenge);
    // Digests of equal length compared in constant time leak neither the token nor its length.
    const given = createHash("sha256").update(token, "utf8").digest();
    if (!timingSafeEqual(given, this.#tokenDigest))
      throw new Refusal(401, "Unauthorized", "the utility token is not valid", {}, challenge);
  }

  async #route(req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }> {
    const path = url.pathname;
    const method = (allowed: string) => {
      if (req.method !== allowed)
        throw new Refusal(405, "MethodNotAllowed", `${path} takes ${allowed}`, {}, { allow: allowed });
    };
    if (path === CONTROLLER_API.usageHours) {
      method("GET");
      return { status: 200, body: this.#usageHours(url.searchParams) };
    }
    if (path === CONTROLLER_API.commands) {
      method("POST");
      return { status: 200, body: this.#command(await this.#body(req)) };
    }
    if (path === CONTROLLER_API.status) {
      method("GET");
      return { status: 200, body: this.#o.status() };
    }
    const usage = /^\/v1\/usage\/([^/]+)(\/ack)?$/.exec(path);
    if (usage !== null) {
      const hour = parseHour(usage[1]!);
      if (usage[2] !== undefined) {
        method("POST");
        return { status: 200, body: await this.#acknowledge(hour) };
      }
      method("GET");
      return { status: 200, body: await this.#usageHour(hour) };
    }
    throw new Refusal(404, "NotFound", `no route ${path}`);
  }

  #usageHours(params: URLSearchParams): UsageHoursResponse {
    const parsed = usageHoursQuerySchema.safeParse(Object.fromEntries(params));
    if (!parsed.success) throw invalid(issuesOf("query", parsed.error));
    const { from, to } = parsed.data;
    if (from > to) throw invalid([{ path: "query.to", message: "must not be before from" }]);
    const running = hourOf(this.#o.clock.now());
    // The running hour is not listed: it cannot be fetched yet.
    const hours = this.#o.usage.list(from, to).filter((h) => h.hour < running);
    return { controllerId: this.#o.controllerId, hours };
  }

  async #usageHour(hour: string): Promise<UsageHourResponse> {
    this.#requireComplete(hour);
    const held = await this.#o.usage.read(hour);
    if (held === undefined) this.#requireRetained(hour);
    return {
      controllerId: this.#o.controllerId,
      hour,
      backup: held?.backup ?? false,
      readings: (held?.readings ?? []) as UsageHourResponse["readings"],
    };
  }

  async #acknowledge(hour: string): Promise<AckResponse> {
    this.#requireComplete(hour);
    const outcome = await this.#o.usage.markBackup(hour);
    if (outcome === "absent") this.#requireRetained(hour);
    if (outcome === "converted")
      this.#o.logger.info({ hour }, "the utility holds the hour; its file is now a backup");
    return { controllerId: this.#o.controllerId, hour, backup: true };
  }

  #command(body: unknown): ControllerCommandResponse {
    const parsed = controllerCommandSchema.safeParse(body);
    if (!parsed.success) throw invalid(issuesOf("body", parsed.error));
    return this.#o.command(parsed.data);
  }

  async #body(req: IncomingMessage): Promise<unknown> {
    try {
      return await readJsonBody(req, this.#o.maxBodyBytes ?? 65_536);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const name = error.status === 413 ? "PayloadTooLarge" : "InvalidRequest";
      throw new Refusal(
        error.status,
        name,
        error.message,
        { issues: error.issues ?? [] },
        { ...error.headers },
      );
    }
  }

  /** Only hours that have ended can be fetched or acknowledged: the running one still grows. */
  #requireComplete(hour: string): void {
    const running = hourOf(this.#o.clock.now());
    if (hour > running)
      throw new Refusal(404, "HourNotBegun", `hour ${hour} has not begun (it is ${running} now)`);
    if (hour === running)
      throw new Refusal(409, "HourRunning", `hour ${hour} is still running; ask again after it ends`);
  }

  /** A completed hour without a file had no readings, unless it is past the backups' ten weeks. */
  #requireRetained(hour: string): void {
    if (this.#o.clock.now() - (hourStartMs(hour) + HOUR_MS) > USAGE_RETENTION_MS) {
      throw new Refusal(404, "HourCollected", `hour ${hour} is older than the ten weeks backups are kept`);
    }
  }
}

function parseHour(encoded: string): string {
  let hour: string;
  try {
    hour = decodeURIComponent(encoded);
  } catch {
    throw invalid([{ path: "path.hour", message: "is not valid percent-encoding" }]);
  }
  const parsed = hourSchema.safeParse(hour);
  if (!parsed.success)
    throw invalid(issuesOf("path", parsed.error).map((i) => ({ ...i, path: "path.hour" })));
  return parsed.data;
}

function invalid(issues: readonly ApiIssue[]): Refusal {
  return new Refusal(
    400,
    "InvalidRequest",
    `invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    { issues },
  );
}
