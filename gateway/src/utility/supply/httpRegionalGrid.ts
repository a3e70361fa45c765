import type { z } from "zod";

import { RegionalGridError, type PurchaseResult, type RegionalGrid } from "./regionalGrid.js";
import { purchaseAnswerSchema, REGIONAL_GRID_API, supplyAnswerSchema } from "./regionalGridApi.js";
import type { SupplyStatus } from "./supplyStatus.js";

export interface HttpRegionalGridParameters {
  /** The feed's base URL; the paths of `REGIONAL_GRID_API` are appended to it. */
  url: string;
  timeoutMs: number;
  /** Sent as `Authorization: Bearer`; read from its file by the caller. */
  token?: string | undefined;
}

/** Answers longer than this are not a supply status; reading stops there. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The regional grid over HTTP (`regionalGridApi.ts`), every answer checked before it is believed. */
export class HttpRegionalGrid implements RegionalGrid {
  readonly source: string;
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #token: string | undefined;

  constructor({ url, timeoutMs, token }: HttpRegionalGridParameters) {
    this.#base = url.replace(/\/+$/, "");
    this.#timeoutMs = timeoutMs;
    this.#token = token;
    this.source = this.#base;
  }

  async status(): Promise<SupplyStatus> {
    const answer = await this.#call(REGIONAL_GRID_API.supply, "GET", undefined, supplyAnswerSchema);
    return answer.supply;
  }

  async purchase(wh: bigint): Promise<PurchaseResult> {
    if (wh <= 0n) throw new RangeError(`a purchase must be of at least 1 Wh, not ${wh}`);
    const answer = await this.#call(
      REGIONAL_GRID_API.purchases,
      "POST",
      { wh: wh.toString() },
      purchaseAnswerSchema,
    );
    const grantedWh = BigInt(answer.grantedWh);
    if (grantedWh > wh) {
      throw new RegionalGridError(
        `regional grid at ${this.source} granted ${grantedWh} Wh of the ${wh} Wh asked`,
        {
          details: { requestedWh: wh.toString(), grantedWh: answer.grantedWh },
        },
      );
    }
    return { requestedWh: wh, grantedWh, supply: answer.supply };
  }

  async #call<S extends z.ZodType>(
    path: string,
    method: "GET" | "POST",
    body: unknown,
    schema: S,
  ): Promise<z.output<S>> {
    const url = this.#base + path;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let text: string;
    let status: number;
    try {
      const res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = res.status;
      text = await readLimited(res);
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      throw new RegionalGridError(
        timedOut
          ? `regional grid at ${url} did not answer within ${this.#timeoutMs} ms`
          : `regional grid at ${url} is unreachable: ${messageOf(error)}`,
        { details: { url, method }, cause: error },
      );
    }
    if (status < 200 || status > 299) {
      throw new RegionalGridError(`regional grid at ${url} answered ${status}: ${text.slice(0, 200)}`, {
        details: { url, method, status },
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RegionalGridError(`regional grid at ${url} answered with something that is not JSON`, {
        details: { url, method, answer: text.slice(0, 200) },
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "answer"}: ${i.message}`);
      throw new RegionalGridError(`regional grid at ${url} sent a malformed answer (${issues.join("; ")})`, {
        details: { url, method, issues },
      });
    }
    return parsed.data;
  }
}

async function readLimited(res: Response): Promise<string> {
  if (res.body === null) return "";
  // The DOM typings leave the chunk type open; fetch bodies are bytes.
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error(`answer exceeds ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch hides the socket error (ECONNREFUSED …) in its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return error.message + cause;
}
