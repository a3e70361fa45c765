import type { Database } from "../../store/index.js";
import { reconcileRouting, type EnqueuedCommand } from "./routingDecisions.js";
import type { SupplyStatus } from "./supplyStatus.js";
import { effectiveStatus, lockSupplyState, recordOverride } from "./supplyStatusStore.js";

export interface OverrideSupplyStatusParameters {
  /** The status to act on regardless of the feed; null hands control back to the feed. */
  status: SupplyStatus | null;
  /** Why, as the operator says it (recorded in the history with the override). */
  reason: string;
  atMs: number;
}

/**
 * An operator's drill: the utility acts on `status` as if the regional grid had said it, until the
 * override is cleared. Recorded as an override in the history, and routed at once in the same
 * transaction, so the controllers' commands are queued without waiting for the next round.
 */
export async function overrideSupplyStatus(
  db: Database,
  { status, reason, atMs }: OverrideSupplyStatusParameters,
): Promise<{ previous: SupplyStatus | null; status: SupplyStatus | null; commands: EnqueuedCommand[] }> {
  return db.transaction(async (tx) => {
    const before = await lockSupplyState(tx);
    const after = await recordOverride(tx, before, { status, reason, atMs });
    const effective = effectiveStatus(after);
    const commands = await reconcileRouting(tx, effective, atMs);
    return { previous: effectiveStatus(before), status: effective, commands };
  });
}
