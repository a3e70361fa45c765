import type { IncomingMessage, ServerResponse } from "node:http";

import { signedReadingBatchSchema } from "@gridmesh/contracts";

import type { ReadingIntake } from "../relay/readingIntake.js";
import { ApiError, invalidRequest, issuesOf } from "./apiError.js";
import { readJsonBody, sendJson } from "./httpIo.js";

/** A batch of 1,000 readings is about 600 KB of JSON. */
export const MAX_READINGS_BODY_BYTES = 1_048_576;

/**
 * `POST /v1/readings`: a batch of signed readings in the shared wire form, answered with one
 * receipt per reading (`stored`, `duplicate` or `rejected` with the reason). A body that is not a
 * valid batch is refused whole with 400 and a message naming each bad field; nothing is stored.
 * The API's router calls this after its own checks (method, content type); it also serves alone.
 */
export async function handleReadings(
  req: IncomingMessage,
  res: ServerResponse,
  intake: ReadingIntake | undefined,
): Promise<void> {
  try {
    if (intake === undefined)
      throw new ApiError(503, "this process does not take meter readings (no market intake)");
    if (req.method !== "POST") throw new ApiError(405, "use POST", undefined, { allow: "POST" });
    const json = await readJsonBody(req, MAX_READINGS_BODY_BYTES);
    const parsed = signedReadingBatchSchema.safeParse(json);
    if (!parsed.success) throw invalidRequest(issuesOf("body", parsed.error), "reading batch");
    sendJson(res, 200, { results: await intake.submit(parsed.data.readings) });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    sendJson(res, error.status, error.toJson(), error.headers);
  }
}
