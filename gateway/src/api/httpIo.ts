import type { IncomingMessage, ServerResponse } from "node:http";

import { ApiError } from "./apiError.js";

/**
 * Reads a request body of at most `maxBytes` and parses it as JSON. A declared length over the
 * limit is refused before a byte is read; an undeclared one (chunked) as soon as it passes it.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () =>
    new ApiError(413, `body exceeds ${maxBytes} bytes`, undefined, { connection: "close" });
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new ApiError(400, "body is not JSON", [{ path: "body", message: "is not valid JSON" }]);
  }
}

/** Whether the request declares a JSON body (`application/json`, any parameters). */
export function hasJsonContentType(req: IncomingMessage): boolean {
  const type = req.headers["content-type"];
  return type !== undefined && type.split(";", 1)[0]!.trim().toLowerCase() === "application/json";
}

/** Sends `body` as JSON; bigints (e.g. in the service's status) go out as decimal strings. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body, (_key, value: unknown) =>
    typeof value === "bigint" ? value.toString() : value,
  );
  res
    .writeHead(status, {
      ...headers,
      "content-type": "application/json; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    })
    .end(text);
}
