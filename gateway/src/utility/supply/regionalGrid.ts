import { GatewayError } from "../../common/errors.js";
import type { SupplyStatus } from "./supplyStatus.js";

/** The regional grid's answer to a purchase: what it delivered, and its supply status as it answered. */
export interface PurchaseResult {
  requestedWh: bigint;
  /** At most `requestedWh`; less when the grid cannot deliver all of it. */
  grantedWh: bigint;
  supply: SupplyStatus;
}

/**
 * The regional grid the utility buys from (seed 000 §2.2.3 assumes it answers every request with its
 * supply status). Implementations throw `RegionalGridError` when they cannot say: an unreachable or
 * malformed feed is never taken to mean NORMAL.
 */
export interface RegionalGrid {
  /** Where the answers come from, for logs and the operator status (no credentials). */
  readonly source: string;
  status(): Promise<SupplyStatus>;
  purchase(wh: bigint): Promise<PurchaseResult>;
}

/** The regional grid could not be asked or gave no usable answer; the next round asks again. */
export class RegionalGridError extends GatewayError {
  override readonly name = "RegionalGridError";

  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}
