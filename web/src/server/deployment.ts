import { parseDeployment, type Deployment } from "../lib/deployment.js";
import { webConfig } from "./webConfig.js";

let cached: Deployment | undefined;

/**
 * What the gateway serves, asked once per server process and kept: a deployment does not move
 * while the gateway runs. A failure is not kept, so the next page load asks again.
 */
export async function loadDeployment(): Promise<Deployment> {
  if (cached !== undefined) return cached;
  const { gatewayUrl } = webConfig();
  let response: Response;
  try {
    response = await fetch(`${gatewayUrl}/v1/deployment`, {
      cache: "no-store",
      signal: AbortSignal.timeout(5_000),
    });
  } catch (error) {
    throw new Error(`the gateway at ${gatewayUrl} is unreachable (${String(error)})`);
  }
  if (!response.ok) {
    throw new Error(`the gateway at ${gatewayUrl} answered ${response.status} to GET /v1/deployment`);
  }
  cached = parseDeployment((await response.json()) as Parameters<typeof parseDeployment>[0]);
  return cached;
}
