import { controllerCommandSchema, type ControllerCommand } from "../../microgrid/controllerApi.js";
import type { Queryable } from "../../store/index.js";
import { CONTROLLER_DEFAULT_ROUTING, demandReductionFor, gridShare } from "./supplyPriorities.js";
import type { ControllerLocation, SupplyStatus } from "./supplyStatus.js";

/** A command put in the utility's outbox (controller_commands) for a controller. */
export interface EnqueuedCommand {
  id: bigint;
  controllerId: string;
  command: ControllerCommand["command"];
  params: ControllerCommand["params"];
}

type ControllerRow = {
  controller_id: string;
  location: ControllerLocation;
  fraction: string | null;
  demand_reduction: boolean | null;
};

/**
 * Brings every controller's routing in line with `status` (seed 000 §2.2.3) and enqueues only what
 * changed since the decision persisted for it: `reduce_power_demand_on/off` when the status leaves
 * or returns to NORMAL, `set_grid_supply` when its share changes. Run inside the transaction that
 * changed the status, so a decision and its commands commit together and a restart resends nothing.
 *
 * Per controller, demand reduction is switched on before its supply is cut (people are warned
 * first) and switched off only after its supply is restored.
 */
export async function reconcileRouting(
  tx: Queryable,
  status: SupplyStatus | null,
  atMs: number,
): Promise<EnqueuedCommand[]> {
  // Until the grid has said anything there is nothing to route by; controllers keep what they have.
  if (status === null) return [];
  const { rows } = await tx.query<ControllerRow>(
    `SELECT c.controller_id, c.location, r.fraction, r.demand_reduction
     FROM microgrid_controllers c LEFT JOIN supply_routing r USING (controller_id)
     ORDER BY c.controller_id`,
  );
  const at = new Date(atMs);
  const enqueued: EnqueuedCommand[] = [];
  const enqueue = async (controllerId: string, command: ControllerCommand) => {
    // The controller's own schema refuses anything it would refuse, before it is queued.
    const checked = controllerCommandSchema.parse(command);
    const { rows: inserted } = await tx.query<{ id: bigint }>(
      `INSERT INTO controller_commands (controller_id, command, params, status, created_at)
       VALUES ($1, $2, $3, 'pending', $4) RETURNING id`,
      [controllerId, checked.command, JSON.stringify(checked.params), at],
    );
    enqueued.push({ id: inserted[0]!.id, controllerId, command: checked.command, params: checked.params });
  };

  for (const row of rows) {
    const fraction = gridShare(row.location, status);
    const demandReduction = demandReductionFor(status);
    const before = {
      fraction: row.fraction === null ? CONTROLLER_DEFAULT_ROUTING.fraction : Number(row.fraction),
      demandReduction: row.demand_reduction ?? CONTROLLER_DEFAULT_ROUTING.demandReduction,
    };
    const reductionChanged = demandReduction !== before.demandReduction;
    const fractionChanged = fraction !== before.fraction;
    if (reductionChanged && demandReduction) {
      await enqueue(row.controller_id, { command: "reduce_power_demand_on", params: {} });
    }
    if (fractionChanged) {
      await enqueue(row.controller_id, { command: "set_grid_supply", params: { fraction } });
    }
    if (reductionChanged && !demandReduction) {
      await enqueue(row.controller_id, { command: "reduce_power_demand_off", params: {} });
    }
    if (reductionChanged || fractionChanged || row.fraction === null) {
      await tx.query(
        `INSERT INTO supply_routing (controller_id, fraction, demand_reduction, status, decided_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (controller_id) DO UPDATE SET fraction = EXCLUDED.fraction,
           demand_reduction = EXCLUDED.demand_reduction, status = EXCLUDED.status, decided_at = EXCLUDED.decided_at`,
        [row.controller_id, fraction, demandReduction, status, at],
      );
    }
  }
  return enqueued;
}
