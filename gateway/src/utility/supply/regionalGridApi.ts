import { z } from "zod";

import { supplyStatusSchema, type SupplyStatus } from "./supplyStatus.js";

/**
 * The HTTP interface of the regional grid feed, one definition for the client and the simulator.
 * Energy travels as decimal strings of watt-hours (JSON numbers stop being exact at 2^53).
 *
 * - `GET  /v1/supply`     → `{ supply }`
 * - `POST /v1/purchases`  `{ wh }` → `{ grantedWh, supply }`
 *
 * An optional bearer token guards both. Answers may carry more fields than these; they are ignored.
 */
export const REGIONAL_GRID_API = { supply: "/v1/supply", purchases: "/v1/purchases" } as const;

const wattHours = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, "must be whole watt-hours as a decimal string");

export const supplyAnswerSchema = z.object({ supply: supplyStatusSchema });

export const purchaseRequestSchema = z.strictObject({ wh: wattHours });

export const purchaseAnswerSchema = z.object({ grantedWh: wattHours, supply: supplyStatusSchema });

export type SupplyAnswer = z.infer<typeof supplyAnswerSchema>;
export type PurchaseAnswer = z.infer<typeof purchaseAnswerSchema>;

/**
 * How much a simulated grid (the file feed, the simulator) delivers: nothing when its supply is
 * EMPTY, otherwise what was asked, up to a per-purchase limit when one is set.
 */
export function simulatedGrant(supply: SupplyStatus, requestedWh: bigint, maxGrantWh?: bigint): bigint {
  if (supply === "EMPTY") return 0n;
  return maxGrantWh !== undefined && maxGrantWh < requestedWh ? maxGrantWh : requestedWh;
}
