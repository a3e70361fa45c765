import { z } from "zod";

/**
 * The regional grid's supply status (seed 000 §2.2.3), from best to worst. The utility learns it
 * from every answer the regional grid gives, and routes power by it.
 */
export const SUPPLY_STATUSES = ["NORMAL", "LOW", "CRITICAL", "EMPTY"] as const;

export const supplyStatusSchema = z.enum(SUPPLY_STATUSES);

export type SupplyStatus = z.infer<typeof supplyStatusSchema>;

/** Seed 000's controller locations (microgrid_controllers.location). */
export const CONTROLLER_LOCATIONS = ["emergency", "apartment", "residential"] as const;

export type ControllerLocation = (typeof CONTROLLER_LOCATIONS)[number];
