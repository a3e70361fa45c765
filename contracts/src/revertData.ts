/**
 * The revert data of a failed contract call, wherever the client library put it: ethers'
 * CallExceptionError over JSON-RPC, Hardhat's in-process errors and their nested causes all carry
 * it under `data` at some depth. Returns the 0x-prefixed bytes (selector first), or undefined when
 * the failure was not a revert with data (network error, out of gas, plain `revert()`).
 * Library-free on purpose: callers decode with their own ABI tooling (ethers' Interface, viem).
 */
export function findRevertData(error: unknown): `0x${string}` | undefined {
  let at: unknown = error;
  for (let depth = 0; at !== null && typeof at === "object" && depth < 6; depth++) {
    const data = (at as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) return data as `0x${string}`;
    const next = at as { error?: unknown; cause?: unknown; info?: { error?: unknown } };
    at = next.error ?? next.cause ?? next.info?.error;
  }
  return undefined;
}
