import type { Interface } from "ethers";

import { findRevertData } from "../revertData.js";

/** The contract's custom error in a failed call or transaction, decoded; undefined for anything else. */
export function decodeCustomError(
  iface: Interface,
  error: unknown,
): { name: string; args: unknown[] } | undefined {
  const data = findRevertData(error);
  const parsed = data === undefined ? null : iface.parseError(data);
  return parsed === null ? undefined : { name: parsed.name, args: [...parsed.args] as unknown[] };
}
