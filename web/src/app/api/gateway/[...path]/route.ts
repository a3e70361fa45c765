import { webConfig } from "../../../../server/webConfig.js";

export const dynamic = "force-dynamic";

// Headers worth passing each way; nothing else (cookies, hop-by-hop headers) crosses the proxy.
const REQUEST_HEADERS = ["accept", "authorization", "content-type"];
const RESPONSE_HEADERS = ["content-type", "content-disposition", "cache-control"];

type Context = { params: Promise<{ path: string[] }> };

/** The gateway's HTTP API (/v1/…) under this origin, so the browser needs no CORS. */
async function proxy(request: Request, { params }: Context): Promise<Response> {
  const { path } = await params;
  if (path[0] !== "v1" || path.some((p) => p === ".." || p === "." || p === "")) {
    return Response.json({ error: `no such gateway path: /${path.join("/")}` }, { status: 404 });
  }
  const target = new URL(`${webConfig().gatewayUrl}/${path.map(encodeURIComponent).join("/")}`);
  target.search = new URL(request.url).search;
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  try {
    const upstream = await fetch(target, {
      method: request.method,
      headers,
      ...(request.method === "POST" && { body: await request.arrayBuffer() }),
      signal: AbortSignal.timeout(30_000),
    });
    const out = new Headers();
    for (const name of RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) out.set(name, value);
    }
    return new Response(upstream.body, { status: upstream.status, headers: out });
  } catch (error) {
    return Response.json({ error: `the gateway is unreachable: ${String(error)}` }, { status: 502 });
  }
}

export const GET = proxy;
export const POST = proxy;
