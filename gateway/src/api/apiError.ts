import type { z } from "zod";

/** One bad field of a request: where it is (`query.limit`, `path.interval`, `body.readings.0`) and why. */
export interface ApiIssue {
  path: string;
  message: string;
}

/**
 * A request the API refuses: the status and the message the client sees. Only these reach clients
 * verbatim; any other error becomes a logged 500 with a generic message.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    message: string,
    readonly issues?: readonly ApiIssue[],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** The JSON body sent for this error. */
  toJson(): { error: string; issues?: ApiIssue[] } {
    return this.issues === undefined
      ? { error: this.message }
      : { error: this.message, issues: [...this.issues] };
  }
}

export type RequestPart = "path" | "query" | "body";

/** Issues of a failed zod parse, one per bad field, named as the client wrote them. */
export function issuesOf(part: RequestPart, error: z.ZodError): ApiIssue[] {
  return error.issues.flatMap((issue) => {
    const at = [part, ...issue.path.map(String)].join(".");
    // A strict object reports all unknown keys in one issue at the object; name each key instead.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: `${at}.${key}`,
        message: `is not a ${noun[part]} of this endpoint`,
      }));
    }
    return [{ path: at, message: issue.message }];
  });
}

const noun: Record<RequestPart, string> = { path: "path parameter", query: "query parameter", body: "field" };

/** 400 naming every bad field, e.g. "invalid request: query.limit: must be at most 1000". */
export function invalidRequest(issues: readonly ApiIssue[], what = "request"): ApiError {
  return new ApiError(
    400,
    `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    issues,
  );
}
