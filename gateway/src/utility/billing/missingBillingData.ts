import type { Queryable } from "../../store/index.js";
import type { MonthPeriod } from "./billingMonth.js";

/** One reason a month's data is not complete enough to bill, for the operator to act on. */
export type MissingBillingData =
  /** Hours of the month whose get failed and waits in the failed-request queue. */
  | { kind: "failed_requests"; controllerId: string; hours: number; first: string; last: string }
  /** Hours of the month, since the controller joined, the utility holds no usage file for. */
  | { kind: "missing_hours"; controllerId: string; hours: number; first: string; last: string }
  /** P2P fills or scheduled deliveries of the month's meters not settled on chain yet. */
  | { kind: "unsettled_p2p"; deliveries: number; firstInterval: string; lastInterval: string };

export interface FindMissingBillingDataParameters {
  period: MonthPeriod;
  intervalSeconds: number;
  /** Only what concerns these accounts (their controllers and meters); every account's when omitted. */
  accountNumbers?: readonly string[] | undefined;
}

/**
 * What keeps a month from being billed: a bill made now could not be made again the same way
 * later, when the rest arrives. Controllers count only if customer accounts hang off them; an hour
 * counts if it overlaps the month at all.
 */
export async function findMissingBillingData(
  q: Queryable,
  { period, intervalSeconds, accountNumbers }: FindMissingBillingDataParameters,
): Promise<MissingBillingData[]> {
  const iso = (d: Date) => d.toISOString();
  const accounts = accountNumbers === undefined ? null : [...accountNumbers];
  const accountsOf = (column: string) => `($3::text[] IS NULL OR ${column} = ANY($3::text[]))`;
  const failed = await q.query<{ controller_id: string; hours: number; first: Date; last: Date }>(
    `SELECT controller_id, count(*)::integer AS hours, min(hour) AS first, max(hour) AS last
     FROM failed_requests
     WHERE hour < $2 AND hour + interval '1 hour' > $1
       AND controller_id IN (SELECT controller_id FROM customer_accounts WHERE ${accountsOf("account_number")})
     GROUP BY controller_id ORDER BY controller_id`,
    [period.start, period.end, accounts],
  );
  // Hours are named by their start in UTC; a zone offset by half an hour overlaps one more. A
  // controller owes no hour before it joined the fleet (catch-up asks for none either).
  const missing = await q.query<{ controller_id: string; hours: number; first: Date; last: Date }>(
    `SELECT c.controller_id, count(*)::integer AS hours, min(h) AS first, max(h) AS last
     FROM microgrid_controllers c
     CROSS JOIN LATERAL generate_series(GREATEST(date_trunc('hour', $1::timestamptz, 'UTC'),
                                                 date_trunc('hour', c.created_at, 'UTC')),
                                        $2::timestamptz - interval '1 microsecond', interval '1 hour') h
     WHERE c.controller_id IN (SELECT controller_id FROM customer_accounts WHERE ${accountsOf("account_number")})
       AND NOT EXISTS (SELECT 1 FROM usage_hours u WHERE u.controller_id = c.controller_id AND u.hour = h)
     GROUP BY c.controller_id ORDER BY c.controller_id`,
    [period.start, period.end, accounts],
  );
  const first = Math.ceil(period.start.getTime() / 1000 / intervalSeconds);
  const last = Math.ceil(period.end.getTime() / 1000 / intervalSeconds) - 1;
  const unsettled = await q.query<{ deliveries: number; first: string | null; last: string | null }>(
    `SELECT count(*)::integer AS deliveries, min(interval_index)::text AS first, max(interval_index)::text AS last
     FROM (
       SELECT f.interval_index FROM chain_fills f
       WHERE f.interval_index BETWEEN $1 AND $2 AND f.delivered_wh IS NULL
         AND EXISTS (SELECT 1 FROM orders o JOIN smart_meters m ON m.meter = o.meter
                     WHERE o.order_id IN (f.offer_id, f.bid_id) AND ${accountsOf("m.account_number")})
       UNION ALL
       SELECT d.interval_index FROM scheduled_deliveries d JOIN delivery_schedules s USING (contract, schedule_id)
       WHERE d.interval_index BETWEEN $1 AND $2 AND d.status = 'committed'
         AND EXISTS (SELECT 1 FROM smart_meters m WHERE m.meter IN (s.seller_meter, s.buyer_meter) AND ${accountsOf("m.account_number")})
     ) pending`,
    [first, last, accounts],
  );
  const result: MissingBillingData[] = [
    ...failed.rows.map((r) => ({
      kind: "failed_requests" as const,
      controllerId: r.controller_id,
      hours: r.hours,
      first: iso(r.first),
      last: iso(r.last),
    })),
    ...missing.rows.map((r) => ({
      kind: "missing_hours" as const,
      controllerId: r.controller_id,
      hours: r.hours,
      first: iso(r.first),
      last: iso(r.last),
    })),
  ];
  const p2p = unsettled.rows[0]!;
  if (p2p.deliveries > 0) {
    result.push({
      kind: "unsettled_p2p",
      deliveries: p2p.deliveries,
      firstInterval: p2p.first!,
      lastInterval: p2p.last!,
    });
  }
  return result;
}

/** One line per problem, for error messages and logs. */
export function describeMissingData(missing: readonly MissingBillingData[]): string {
  return missing
    .map((m) => {
      switch (m.kind) {
        case "failed_requests":
          return `controller ${m.controllerId}: ${m.hours} hour(s) in the failed-request queue (${m.first} to ${m.last})`;
        case "missing_hours":
          return `controller ${m.controllerId}: ${m.hours} hour(s) not received (${m.first} to ${m.last})`;
        case "unsettled_p2p":
          return `${m.deliveries} P2P deliveries not settled on chain (intervals ${m.firstInterval} to ${m.lastInterval})`;
      }
    })
    .join("; ");
}
