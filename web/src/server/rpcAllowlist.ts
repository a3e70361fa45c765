/**
 * JSON-RPC methods the browser may send through this server: reads, and raw transactions a wallet
 * already signed. Never eth_sendTransaction or eth_sign*: a development node holds unlocked keys,
 * and this proxy must not let a page spend them.
 */
const allowed = new Set([
  "eth_blockNumber",
  "eth_call",
  "eth_chainId",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "eth_sendRawTransaction",
  "net_version",
  "web3_clientVersion",
]);

export interface RpcRequest {
  jsonrpc: "2.0";
  id?: string | number | null;
  method: string;
  params?: unknown;
}

/** The reason a request (or any request of a batch) is refused, or undefined when it may pass. */
export function refuseRpc(body: unknown): string | undefined {
  const requests = Array.isArray(body) ? body : [body];
  if (requests.length === 0) return "empty batch";
  if (requests.length > 100) return "a batch may hold at most 100 requests";
  for (const r of requests) {
    if (typeof r !== "object" || r === null || typeof (r as RpcRequest).method !== "string") {
      return "not a JSON-RPC request";
    }
    const method = (r as RpcRequest).method;
    if (!allowed.has(method)) return `method ${method} is not available through the web app`;
  }
  return undefined;
}
