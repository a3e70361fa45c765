import type { IncomingMessage, ServerResponse } from "node:http";

import { signedReadingBatchSchema } from "@gridmesh/contracts";

import type { ReadingIntake } from "./readingIntake.js";

/** A batch of 1,000 readings is about 600 KB of JSON. */
const MAX_BODY_BYTES = 1_048_576;

/**
 * `POST /v1/readings`: a batch of signed readings in the shared wire form, answered with one
 * receipt per reading (`stored`, `duplicate` or `rejected` with the reason). A body that is not a
 * valid batch is refused whole with 400 and a message naming each bad field; nothing is stored.
 */
export async function handleReadings(
  req: IncomingMessage,
  res: ServerResponse,
  intake: ReadingIntake,
): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  if (req.method !== "POST") return reply(405, { error: "use POST" });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return reply(413, { error: `body exceeds ${MAX_BODY_BYTES} bytes` });
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return reply(400, { error: "body is not JSON" });
  }
  const parsed = signedReadingBatchSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    return reply(400, { error: `invalid reading batch: ${issues.join("; ")}` });
  }
  reply(200, { results: await intake.submit(parsed.data.readings) });
}
