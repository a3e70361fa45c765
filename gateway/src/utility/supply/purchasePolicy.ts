export type PurchaseReason = "off_peak_refill" | "critical_refill";

export interface PurchaseDecision {
  /** Watt-hours to ask the regional grid for; 0 when nothing is to be bought. */
  wh: bigint;
  reason: PurchaseReason | undefined;
}

export interface PurchasePolicyInput {
  capacityWh: bigint;
  chargeWh: bigint;
  criticalWh: bigint;
  peak: boolean;
  /** Largest single purchase, when the connection limits one. */
  maxPurchaseWh?: bigint | undefined;
}

/**
 * Purchase_power's rule (seed 000 §2.2.3): off peak, buy whatever keeps the battery full; in peak
 * hours, buy only when the battery is critically low, and then only back up to the critical level,
 * because peak energy is the dear energy customers pay for (§3.1, long-term changes).
 */
export function decidePurchase({
  capacityWh,
  chargeWh,
  criticalWh,
  peak,
  maxPurchaseWh,
}: PurchasePolicyInput): PurchaseDecision {
  let wh: bigint;
  let reason: PurchaseReason | undefined;
  if (!peak) {
    wh = capacityWh - chargeWh;
    reason = "off_peak_refill";
  } else if (chargeWh < criticalWh) {
    wh = criticalWh - chargeWh;
    reason = "critical_refill";
  } else {
    return { wh: 0n, reason: undefined };
  }
  if (maxPurchaseWh !== undefined && wh > maxPurchaseWh) wh = maxPurchaseWh;
  return wh > 0n ? { wh, reason } : { wh: 0n, reason: undefined };
}
