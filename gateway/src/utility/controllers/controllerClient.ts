import type { z } from "zod";

import {
  ackResponseSchema,
  CONTROLLER_API,
  controllerCommandResponseSchema,
  type ControllerCommand,
  type ControllerCommandResponse,
  type ControllerStatus,
  type AckResponse,
  usageHourResponseSchema,
  usageHoursResponseSchema,
  type UsageHoursResponse,
} from "../../microgrid/controllerApi.js";
import { readControllerToken } from "../fleet/fleetFile.js";
import { ControllerRequestError } from "./controllerRequestError.js";

export interface ControllerClientParameters {
  controllerId: string;
  /** The controller's base URL (a path prefix is kept). */
  url: string;
  /** The file holding the bearer token; read at each request. */
  tokenFile: string;
  timeoutMs: number;
  /** Largest response body accepted; an hour of 300 meters at 5-minute readings is about 1.5 MB. */
  maxResponseBytes?: number;
}

/** One usage hour as the controller sent it; readings are checked one by one by the caller. */
export type UsageHour = z.output<typeof usageHourResponseSchema>;

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The utility's side of controllerApi.ts: typed requests to one microgrid controller. Every
 * failure is a ControllerRequestError naming the controller, the request, the status and the
 * controller's message; a 2xx body that does not match the contract (or names another controller
 * or hour, as a misrouted URL would) is a failure too, never data.
 */
export class ControllerClient {
  readonly controllerId: string;
  readonly #p: ControllerClientParameters;
  readonly #base: string;

  constructor(parameters: ControllerClientParameters) {
    this.#p = parameters;
    this.controllerId = parameters.controllerId;
    this.#base = parameters.url.replace(/\/+$/, "");
  }

  /** Which hours in [from, to] the controller holds, with their reading counts. */
  async usageHours(from: string, to: string): Promise<UsageHoursResponse> {
    const path = `${CONTROLLER_API.usageHours}?${new URLSearchParams({ from, to }).toString()}`;
    const body = await this.#request("GET", path, usageHoursResponseSchema);
    this.#checkController(`GET ${path}`, body.controllerId);
    return body;
  }

  /** Seed 000's `get`: the readings the controller received in `hour`. */
  async usageHour(hour: string): Promise<UsageHour> {
    const path = CONTROLLER_API.usageHour(hour);
    const body = await this.#request("GET", path, usageHourResponseSchema);
    this.#checkController(`GET ${path}`, body.controllerId);
    if (body.hour !== hour) {
      throw new ControllerRequestError(this.controllerId, `GET ${path}`, {
        kind: "invalid-response",
        detail: `answered for hour ${body.hour}`,
      });
    }
    return body;
  }

  /** Seed 000's `acknowledge`: the utility holds the hour, so the controller keeps it as a backup. */
  async acknowledge(hour: string): Promise<AckResponse> {
    const path = CONTROLLER_API.ackHour(hour);
    const body = await this.#request("POST", path, ackResponseSchema, {});
    this.#checkController(`POST ${path}`, body.controllerId);
    return body;
  }

  async command(command: ControllerCommand): Promise<ControllerCommandResponse> {
    const body = await this.#request(
      "POST",
      CONTROLLER_API.commands,
      controllerCommandResponseSchema,
      command,
    );
    this.#checkController(`POST ${CONTROLLER_API.commands} ${command.command}`, body.controllerId);
    return body as ControllerCommandResponse;
  }

  /** The controller's tables, as it reports them (shape not enforced beyond its id). */
  async status(): Promise<ControllerStatus> {
    const body = await this.#request("GET", CONTROLLER_API.status, undefined);
    const id = (body as { controllerId?: unknown } | null)?.controllerId;
    this.#checkController(`GET ${CONTROLLER_API.status}`, typeof id === "string" ? id : "(none)");
    return body as ControllerStatus;
  }

  #checkController(request: string, answered: string): void {
    if (answered !== this.controllerId) {
      throw new ControllerRequestError(this.controllerId, request, {
        kind: "invalid-response",
        detail: `answered as controller ${answered}`,
      });
    }
  }

  async #request<S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    schema: S | undefined,
    body?: unknown,
  ): Promise<z.output<S>> {
    const request = `${method} ${decodeURIComponent(path.split("?", 1)[0]!)}`;
    let token: string;
    try {
      token = await readControllerToken(this.#p.tokenFile);
    } catch (error) {
      throw new ControllerRequestError(
        this.controllerId,
        request,
        { kind: "network", detail: (error as Error).message },
        error,
      );
    }
    const signal = AbortSignal.timeout(this.#p.timeoutMs);
    let text: string;
    let status: number;
    try {
      const res = await fetch(`${this.#base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
        redirect: "error",
      });
      status = res.status;
      text = await readLimited(res, this.#p.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    } catch (error) {
      if (error instanceof ResponseTooLarge) {
        throw new ControllerRequestError(this.controllerId, request, {
          kind: "invalid-response",
          detail: error.message,
        });
      }
      const timedOut = signal.aborted;
      throw new ControllerRequestError(
        this.controllerId,
        request,
        timedOut
          ? { kind: "timeout", detail: `${this.#p.timeoutMs} ms` }
          : { kind: "network", detail: networkDetail(error) },
        error,
      );
    }
    if (status < 200 || status > 299) {
      throw new ControllerRequestError(this.controllerId, request, {
        kind: "status",
        status,
        ...messageOf(text),
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ControllerRequestError(this.controllerId, request, {
        kind: "invalid-response",
        detail: "body is not JSON",
      });
    }
    if (schema === undefined) return json as z.output<S>;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ControllerRequestError(this.controllerId, request, {
        kind: "invalid-response",
        detail: `${issue.path.map(String).join(".") || "body"}: ${issue.message}`,
      });
    }
    return parsed.data;
  }
}

class ResponseTooLarge extends Error {}

/** The body as text, refusing to buffer more than `maxBytes`. */
async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ResponseTooLarge(`body of ${declared} bytes exceeds ${maxBytes}`);
  }
  if (res.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ResponseTooLarge(`body exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The controller's error message: `{error: {message}}` per the contract, or the gateway's `{error}`. */
function messageOf(text: string): { controllerMessage?: string } {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    const error = body.error;
    if (typeof error === "string") return { controllerMessage: error.slice(0, 500) };
    if (
      typeof error === "object" &&
      error !== null &&
      typeof (error as { message?: unknown }).message === "string"
    )
      return { controllerMessage: (error as { message: string }).message.slice(0, 500) };
  } catch {
    // not JSON: fall through to the raw text
  }
  const trimmed = text.trim();
  return trimmed === "" ? {} : { controllerMessage: trimmed.slice(0, 200) };
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED and the like). */
function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}
