import { webConfig } from "../../../server/webConfig.js";
import { refuseRpc } from "../../../server/rpcAllowlist.js";

export const dynamic = "force-dynamic";

/** The chain's JSON-RPC for the browser's reads (wallets send their own transactions). */
export async function POST(request: Request): Promise<Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json(
      { jsonrpc: "2.0", id: null, error: { code: -32700, message: "invalid JSON" } },
      { status: 400 },
    );
  }
  const refusal = refuseRpc(body);
  if (refusal !== undefined) {
    return Response.json(
      { jsonrpc: "2.0", id: null, error: { code: -32601, message: refusal } },
      { status: 403 },
    );
  }
  try {
    const upstream = await fetch(webConfig().rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
    });
  } catch (error) {
    return Response.json(
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32603, message: `the chain's node is unreachable: ${String(error)}` },
      },
      { status: 502 },
    );
  }
}
