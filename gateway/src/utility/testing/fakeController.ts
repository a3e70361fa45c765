import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { Clock } from "@gridmesh/contracts";

import {
  controllerCommandSchema,
  type ControllerCommand,
  HOUR_MS,
  hourSchema,
  usageHoursQuerySchema,
} from "../../microgrid/controllerApi.js";

const TEN_WEEKS_MS = 10 * 7 * 86_400_000;

export interface RecordedRequest {
  method: string;
  path: string;
  /** The test clock's time when the request arrived. */
  atMs: number;
}

/**
 * The controller side of controllerApi.ts, small and in memory, for the utility's tests: usage
 * hours a test fills with signed readings, the bearer token, 409 for the running hour, the backup
 * bit set by acknowledgements, 404 for an hour past the ten weeks of backups, commands recorded. It can be taken down (its port closed, so the
 * utility sees connections refused) and brought back on the same port, or made to fail requests.
 */
export class FakeController {
  readonly controllerId: string;
  readonly token: string;
  readonly hours = new Map<string, { readings: unknown[]; backup: boolean }>();
  readonly requests: RecordedRequest[] = [];
  readonly commands: ControllerCommand[] = [];
  /** Answer the next `n` matching requests with this status instead of serving them. */
  failures: { status: number; count: number; match?: (method: string, path: string) => boolean } | undefined;
  /** Commands this controller refuses with 400 and a reason. */
  refuse: ((command: ControllerCommand) => string | undefined) | undefined;
  readonly #clock: Clock;
  #server: Server;
  #port = 0;

  private constructor(controllerId: string, token: string, clock: Clock) {
    this.controllerId = controllerId;
    this.token = token;
    this.#clock = clock;
    this.#server = this.#newServer();
  }

  static async start(controllerId: string, clock: Clock): Promise<FakeController> {
    const fake = new FakeController(controllerId, `token-of-${controllerId}-0123456789`, clock);
    await fake.resume();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Requests for one hour's readings (not the listing nor acknowledgements). */
  gets(hour?: string): RecordedRequest[] {
    return this.requests.filter(
      (r) =>
        r.method === "GET" &&
        /^\/v1\/usage\/[^/]+$/.test(r.path) &&
        r.path !== "/v1/usage/hours" &&
        (hour === undefined || decodeURIComponent(r.path.slice("/v1/usage/".length)) === hour),
    );
  }

  /** Closes the port: the utility's requests are refused until resume(). */
  async down(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async resume(): Promise<void> {
    if (this.#server.listening) return;
    this.#server = this.#newServer();
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #newServer(): Server {
    return createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) =>
        send(res, 500, { error: { name: "Error", message: String(error) } }),
      );
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://controller");
    const method = req.method ?? "GET";
    this.requests.push({ method, path: url.pathname, atMs: this.#clock.now() });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return refuse(res, 401, "bad or missing utility token");
    const failing = this.failures;
    if (failing !== undefined && failing.count > 0 && (failing.match?.(method, url.pathname) ?? true)) {
      failing.count--;
      return refuse(res, failing.status, "failing on purpose");
    }
    const body = method === "POST" ? await readJson(req) : undefined;

    if (method === "GET" && url.pathname === "/v1/usage/hours") {
      const query = usageHoursQuerySchema.safeParse(Object.fromEntries(url.searchParams));
      if (!query.success) return refuse(res, 400, query.error.issues[0]!.message);
      const hours = [...this.hours.entries()]
        .filter(([hour]) => hour >= query.data.from && hour <= query.data.to)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([hour, h]) => ({ hour, readings: h.readings.length, backup: h.backup }));
      return send(res, 200, { controllerId: this.controllerId, hours });
    }
    const usage = /^\/v1\/usage\/([^/]+)(\/ack)?$/.exec(url.pathname);
    if (usage !== null) {
      const hour = hourSchema.safeParse(decodeURIComponent(usage[1]!));
      if (!hour.success) return refuse(res, 400, `hour: ${hour.error.issues[0]!.message}`);
      if (Date.parse(hour.data) + HOUR_MS > this.#clock.now())
        return refuse(res, 409, `hour ${hour.data} is still running`);
      const kept = this.hours.get(hour.data);
      if (kept === undefined && this.#clock.now() - Date.parse(hour.data) - HOUR_MS > TEN_WEEKS_MS)
        return refuse(res, 404, `hour ${hour.data} is older than the ten weeks backups are kept`);
      const held = kept ?? { readings: [], backup: false };
      if (usage[2] !== undefined && method === "POST") {
        this.hours.set(hour.data, { ...held, backup: true });
        return send(res, 200, { controllerId: this.controllerId, hour: hour.data, backup: true });
      }
      if (method === "GET")
        return send(res, 200, {
          controllerId: this.controllerId,
          hour: hour.data,
          backup: held.backup,
          readings: held.readings,
        });
    }
    if (method === "POST" && url.pathname === "/v1/commands") {
      const command = controllerCommandSchema.safeParse(body);
      if (!command.success) return refuse(res, 400, command.error.issues[0]!.message);
      const reason = this.refuse?.(command.data);
      if (reason !== undefined) return refuse(res, 400, reason);
      this.commands.push(command.data);
      return send(res, 200, {
        controllerId: this.controllerId,
        command: command.data.command,
        forwardedTo: 0,
      });
    }
    if (method === "GET" && url.pathname === "/v1/status")
      return send(res, 200, { controllerId: this.controllerId, atMs: this.#clock.now() });
    return refuse(res, 404, `no route ${method} ${url.pathname}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function refuse(res: ServerResponse, status: number, message: string): void {
  send(res, status, { error: { name: status === 401 ? "Unauthorized" : "Refused", message, details: {} } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
