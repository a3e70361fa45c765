import { lockFor } from "@gridmesh/contracts";

/** A forward's or option's window, and what each side locks (ScheduledDelivery._margins). */
export function windowWh(firstInterval: bigint, lastInterval: bigint, whPerInterval: bigint): bigint {
  if (lastInterval < firstInterval) throw new RangeError("the window ends before it starts");
  return (lastInterval - firstInterval + 1n) * whPerInterval;
}

/** The buyer locks every Wh at the price cap (an option's holder: at the strike, on exercise). */
export const buyerMargin = (totalWh: bigint, capPerKwh: bigint) => lockFor(totalWh, capPerKwh);

/** The seller (an option's writer) locks the penalty on every Wh, against non-delivery. */
export const sellerMargin = (totalWh: bigint, penaltyPerKwh: bigint) => lockFor(totalWh, penaltyPerKwh);

export const scheduleStatus = ["none", "proposed", "active", "closed"] as const;
