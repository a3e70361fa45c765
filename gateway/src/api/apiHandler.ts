import type { IncomingMessage, ServerResponse } from "node:http";

import { ApiError, invalidRequest, issuesOf, type ApiIssue } from "./apiError.js";
import { apiRoutes } from "./apiRoutes.js";
import { hasJsonContentType, readJsonBody, sendJson } from "./httpIo.js";
import { openApiDocument } from "./openApiDocument.js";
import { handleCors } from "./cors.js";
import { checkCustomerAccess } from "./customerAccess.js";
import { checkOperatorToken } from "./operatorAuth.js";
import { defineRoute, matchPath, type ApiDependencies, type Route } from "./route.js";

export type { ApiDependencies } from "./route.js";

/** Operator bodies are a few fields. */
const DEFAULT_MAX_BODY_BYTES = 16_384;

/**
 * The gateway's HTTP API as a node:http request listener. Every request is checked in the same
 * order — route, operator token, method, content type, path and query, body — and refused at the
 * first failure, before its handler runs, so nothing is written for a 4xx. Errors other than the
 * API's own refusals are logged with the request and answered with a generic 500.
 *
 * Without `operatorTokenSha256` the operator routes are not mounted at all: they answer 404 and
 * the OpenAPI document leaves them out.
 */
export function createApiHandler(deps: ApiDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  const tokenHash = deps.operatorTokenSha256;
  if (tokenHash !== undefined && !/^[0-9a-f]{64}$/.test(tokenHash)) {
    throw new Error("operatorTokenSha256 must be 64 lower-case hex digits (the sha256 of the token)");
  }
  const routes: Route[] = apiRoutes.filter((r) => tokenHash !== undefined || r.operator !== true);
  let document: unknown;
  routes.push(
    defineRoute({
      method: "GET",
      path: "/v1/openapi.json",
      tag: "service",
      summary: "This API's OpenAPI 3.1 document",
      response: "OpenApiDocument",
      handle: () => Promise.resolve((document ??= openApiDocument(routes))),
    }),
  );

  const corsOrigins = new Set(deps.corsOrigins ?? []);
  return (req, res) => {
    const started = performance.now();
    const path = pathOf(req);
    if (handleCors(corsOrigins, routes, path, req, res)) return;
    res.once("finish", () =>
      deps.logger.debug(
        { method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) },
        "http request",
      ),
    );
    serve(routes, deps, req, res, path).catch((error: unknown) => {
      if (error instanceof ApiError) return sendJson(res, error.status, error.toJson(), error.headers);
      deps.logger.error({ err: error, method: req.method, path }, "http request failed");
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: "internal error" });
    });
  };
}

async function serve(
  routes: readonly Route[],
  deps: ApiDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const matches = routes.flatMap((route) => {
    const raw = matchPath(route.path, path);
    return raw === undefined ? [] : [{ route, raw }];
  });
  if (matches.length === 0) throw new ApiError(404, `no route ${req.method} ${path}`);
  // Authentication before anything else about the request, so that without the token the
  // operator endpoints reveal nothing, not even which methods they take.
  if (matches.some((m) => m.route.operator === true)) checkOperatorToken(req, deps.operatorTokenSha256!);
  const match = matches.find((m) => m.route.method === req.method);
  if (match === undefined) {
    const allow = matches.map((m) => m.route.method).join(", ");
    throw new ApiError(405, `${req.method} is not allowed on ${path}; use ${allow}`, undefined, { allow });
  }
  const { route, raw } = match;
  let customer: string | undefined;
  if (route.customer === true) {
    if (deps.deployment === undefined)
      throw new ApiError(503, "this process serves no market (utility only)");
    // Token lifetimes are real time, even when the utility runs on a simulated clock.
    customer = checkCustomerAccess(req, deps.deployment.chainId, Math.floor(Date.now() / 1000));
  }
  if (route.body !== undefined && !hasJsonContentType(req)) {
    throw new ApiError(
      415,
      `content-type must be application/json, not ${req.headers["content-type"] ?? "none"}`,
    );
  }

  const issues: ApiIssue[] = [];
  const params = route.params.safeParse(raw);
  if (!params.success) issues.push(...issuesOf("path", params.error));
  const query = route.query.safeParse(queryOf(req, issues));
  if (!query.success) issues.push(...issuesOf("query", query.error));
  if (issues.length > 0) throw invalidRequest(issues);

  if (route.respond !== undefined) return route.respond(req, res, deps, customer);
  let body: unknown;
  if (route.body !== undefined) {
    const parsed = route.body.safeParse(
      await readJsonBody(req, route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    );
    if (!parsed.success) throw invalidRequest(issuesOf("body", parsed.error));
    body = parsed.data;
  }
  const result = await route.handle!({ params: params.data, query: query.data, body, deps, customer });
  sendJson(res, 200, result);
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? "/", "http://gateway").pathname;
  } catch {
    return "/";
  }
}

/** The query string as one value per name; a name given twice is an issue, not a silent pick. */
function queryOf(req: IncomingMessage, issues: ApiIssue[]): Record<string, string> {
  const search = new URL(req.url ?? "/", "http://gateway").searchParams;
  const query: Record<string, string> = {};
  for (const [name, value] of search) {
    if (name in query) issues.push({ path: `query.${name}`, message: "is given more than once" });
    query[name] = value;
  }
  return query;
}
