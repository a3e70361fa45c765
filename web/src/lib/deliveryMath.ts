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

/** A ScheduledDelivery event as the event log hook gives it. */
export interface DeliveryEvent {
  eventName: string;
  args: Record<string, unknown>;
}

/** How far a schedule has settled, from its DeliverySettled and ScheduleCompleted events. */
export interface Settlement {
  intervals: number;
  deliveredWh: bigint;
  /** Paid to the seller for the delivered energy, out of the buyer's margin. */
  paid: bigint;
  /** Paid to the buyer for energy not delivered, out of the seller's margin. */
  penalty: bigint;
  /** What was left of each margin when the last interval settled; undefined until then. */
  released: { seller: bigint; buyer: bigint } | undefined;
}

/** Schedule `id`'s settlement so far, summed over its events (the chain credits each as it settles). */
export function settlementOf(events: readonly DeliveryEvent[], id: bigint): Settlement {
  const s: Settlement = { intervals: 0, deliveredWh: 0n, paid: 0n, penalty: 0n, released: undefined };
  for (const e of events) {
    if (e.args.id !== id) continue;
    if (e.eventName === "DeliverySettled") {
      s.intervals += 1;
      s.deliveredWh += BigInt(e.args.deliveredWh as number | bigint);
      s.paid += e.args.paid as bigint;
      s.penalty += e.args.penalty as bigint;
    } else if (e.eventName === "ScheduleCompleted") {
      s.released = { seller: e.args.sellerReleased as bigint, buyer: e.args.buyerReleased as bigint };
    }
  }
  return s;
}
