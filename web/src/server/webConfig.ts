import { z } from "zod";

/**
 * The web server's configuration, from its environment, checked once: where the gateway's API and
 * the chain's JSON-RPC endpoint are. The browser reaches both through this server's own origin
 * (src/app/api), so neither needs CORS or to be exposed to the internet itself.
 */
const webConfigSchema = z.object({
  GRIDMESH_GATEWAY_URL: z.url({ protocol: /^https?$/, error: "must be the gateway's http(s) base URL" }),
  GRIDMESH_RPC_URL: z.url({ protocol: /^https?$/, error: "must be the chain's http(s) JSON-RPC URL" }),
});

export interface WebConfig {
  gatewayUrl: string;
  rpcUrl: string;
}

let cached: WebConfig | undefined;

export function webConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  if (cached !== undefined && env === process.env) return cached;
  const parsed = webConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `web app configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  }
  const config = {
    gatewayUrl: parsed.data.GRIDMESH_GATEWAY_URL.replace(/\/+$/, ""),
    rpcUrl: parsed.data.GRIDMESH_RPC_URL,
  };
  if (env === process.env) cached = config;
  return config;
}
