import type { IncomingMessage, ServerResponse } from "node:http";

import { matchPath, type Route } from "./route.js";

/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Cross-origin access for the web app, which runs on its own origin: only origins in the allowlist
 * get CORS headers, and a preflight (OPTIONS with Access-Control-Request-Method) is answered from
 * the routes the path really has. With an empty allowlist the API stays same-origin only, as browsers
 * enforce by default. Returns true when it answered the request itself (a preflight).
 */
export function handleCors(
  allowed: ReadonlySet<string>,
  routes: readonly Route[],
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || !(allowed.has(origin) || allowed.has("*"))) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  const requested = req.headers["access-control-request-method"];
  if (req.method !== "OPTIONS" || requested === undefined) return false;
  const methods = routes.filter((r) => matchPath(r.path, path) !== undefined).map((r) => r.method);
  if (methods.length === 0) return false; // an unknown path: the router answers 404
  res.setHeader("access-control-allow-methods", methods.join(", "));
  res.setHeader("access-control-allow-headers", "content-type, authorization");
  res.setHeader("access-control-max-age", String(PREFLIGHT_MAX_AGE_S));
  res.writeHead(204).end();
  return true;
}
