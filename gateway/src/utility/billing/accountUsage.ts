import type { Queryable } from "../../store/index.js";
import type { BillingRates } from "./billingRates.js";
import type { MonthPeriod } from "./billingMonth.js";

export interface AccountUsageParameters {
  period: MonthPeriod;
  rates: BillingRates;
  intervalSeconds: number;
  /**
   * Only these accounts (and their meters' records); every account when omitted. A statement for
   * one customer need not read every meter's month.
   */
  accountNumbers?: readonly string[] | undefined;
}

/**
 * Fills the transaction's temporary table `billing_usage` with one row per customer account: the
 * month's energy in watt-hours, split into what is billed at the peak and non-peak rates and what is
 * credited, after P2P netting, and the P2P fills' own energy and payments. One pass over the month's
 * meter records, in SQL, so that a month of 5-minute readings for a thousand meters bills in seconds.
 *
 * Per meter record (one per meter and interval):
 * - P2P netting: the energy P2P fills delivered to the meter in the record's interval is not billed
 *   again (billed import = import - bought, not below 0), nor that it delivered to buyers credited
 *   again (credited export = export - sold, not below 0). Only settled fills count.
 * - A record straddling the month's start or end counts for the share of its duration inside the
 *   month. The watt-hours before instant x are round(wh * (x - start) / duration), so the shares of
 *   the two months add up to the record exactly.
 * - Its in-month billed import is split by the share of that time inside peak hours, peak Wh =
 *   round(wh * peak seconds / seconds), the rest non-peak, again adding up exactly. Peak hours are
 *   taken on the local wall clock at the record's start plus its duration: a record spanning a
 *   daylight-saving change is placed as if the offset of its start held throughout.
 * - Rounding is to the nearest watt-hour, halves up.
 *
 * P2P fills are placed in the month by their interval's start, and counted for each side's meter:
 * an offer's meter is the seller's, a bid's the buyer's. Forward and option deliveries settled on
 * chain count like spot fills.
 */
export async function computeAccountUsage(tx: Queryable, p: AccountUsageParameters): Promise<void> {
  const L = p.intervalSeconds;
  const startS = p.period.start.getTime() / 1000;
  const endS = p.period.end.getTime() / 1000;
  // A record overlapping the month starts at most one interval (or a day, whichever is more) before it.
  const lookbackS = Math.max(L, 86_400);
  const firstInterval = Math.floor((startS - lookbackS) / L);
  const lastInterval = Math.ceil(endS / L);
  // The time arithmetic of a record is the same for every meter's record of an interval: it is done
  // once per interval (slots) and looked up, which keeps the pass over the records cheap. A record
  // not on the interval grid (none today: records are stored per interval) computes its own.
  const slotTimes = timeColumns("to_timestamp(t * $8)", "to_timestamp((t + 1) * $8)");
  const ownTimes = timeColumns("r.start_time", "r.end_time");
  const own = (column: keyof typeof ownTimes) => `coalesce(sl.${column}, ${ownTimes[column]}) AS ${column}`;
  // $1-$7 are what timeColumns needs, in every statement that uses it.
  const timeParams = [
    p.period.start,
    p.period.end,
    startS,
    endS,
    p.rates.timeZone,
    p.rates.peakStartHour * 3600,
    (p.rates.peakEndHour - p.rates.peakStartHour) * 3600,
  ];
  // The month's records must be the side of each hash join that is streamed, never the one hashed
  // (millions of rows spilled to disk): the two small tables are analysed, P2P is joined on one key
  // (the planner sizes a two-column key's hash buckets by one column alone and fears collisions), and
  // the small sides get the memory to stay in one batch.
  await tx.exec("SET LOCAL work_mem = '64MB'");
  await tx.query(
    `CREATE TEMPORARY TABLE billing_p2p ON COMMIT DROP AS
     SELECT meter, interval_index, meter || '/' || interval_index AS meter_interval,
            sum(bought_wh) AS bought_wh, sum(bought_paid) AS bought_paid,
            sum(sold_wh) AS sold_wh, sum(sold_paid) AS sold_paid
     FROM (
       SELECT o.meter, f.interval_index::bigint, 0 AS bought_wh, 0 AS bought_paid,
              f.delivered_wh AS sold_wh, f.paid AS sold_paid
       FROM chain_fills f JOIN orders o ON o.order_id = f.offer_id
       WHERE f.interval_index BETWEEN $1 AND $2 AND f.delivered_wh IS NOT NULL
       UNION ALL
       SELECT o.meter, f.interval_index::bigint, f.delivered_wh, f.paid, 0, 0
       FROM chain_fills f JOIN orders o ON o.order_id = f.bid_id
       WHERE f.interval_index BETWEEN $1 AND $2 AND f.delivered_wh IS NOT NULL
       UNION ALL
       SELECT s.seller_meter, d.interval_index::bigint, 0, 0, d.delivered_wh, d.paid
       FROM scheduled_deliveries d JOIN delivery_schedules s USING (contract, schedule_id)
       WHERE d.interval_index BETWEEN $1 AND $2 AND d.status = 'settled' AND s.seller_meter IS NOT NULL
       UNION ALL
       SELECT s.buyer_meter, d.interval_index::bigint, d.delivered_wh, d.paid, 0, 0
       FROM scheduled_deliveries d JOIN delivery_schedules s USING (contract, schedule_id)
       WHERE d.interval_index BETWEEN $1 AND $2 AND d.status = 'settled' AND s.buyer_meter IS NOT NULL
     ) sides
     GROUP BY meter, interval_index`,
    [firstInterval, lastInterval],
  );
  await tx.query(
    `CREATE TEMPORARY TABLE billing_slots ON COMMIT DROP AS
     SELECT t, to_timestamp(t * $8) AS start_time, to_timestamp((t + 1) * $8) AS end_time,
            ${Object.entries(slotTimes)
              .map(([column, sql]) => `${sql} AS ${column}`)
              .join(", ")}
     FROM generate_series($9::bigint, $10::bigint) t`,
    [...timeParams, L, firstInterval, lastInterval],
  );
  await tx.exec("ANALYZE billing_p2p; ANALYZE billing_slots");
  await tx.query(
    `CREATE TEMPORARY TABLE billing_usage ON COMMIT DROP AS
     WITH records AS (
       SELECT r.meter, r.import_wh, r.export_wh,
              greatest(r.import_wh - coalesce(p.bought_wh, 0), 0)::bigint AS net_import,
              greatest(r.export_wh - coalesce(p.sold_wh, 0), 0)::bigint AS net_export,
              ${own("inside")}, ${own("s")}, ${own("e")}, ${own("a")}, ${own("b")}, ${own("peak_s")}
       FROM meter_records r
       LEFT JOIN billing_slots sl
         ON sl.t = r.interval_index AND sl.start_time = r.start_time AND sl.end_time = r.end_time
       LEFT JOIN billing_p2p p ON p.meter_interval = r.meter || '/' || r.interval_index
       WHERE r.start_time < $2 AND r.end_time > $1 AND r.start_time > $1 - make_interval(secs => $9)
         AND ($10::text[] IS NULL
              OR r.meter IN (SELECT meter FROM smart_meters WHERE account_number = ANY($10::text[])))
       -- A fence: each column above is computed once per record, not once per use below.
       OFFSET 0
     ),
     shares AS (
       SELECT meter, peak_s, b - a AS length_s,
              ${["import_wh", "export_wh", "net_import", "net_export"]
                .map(
                  (wh) => `CASE WHEN inside THEN ${wh}
                   ELSE (div(2 * ${wh}::numeric * (b - s) + (e - s), 2 * (e - s))
                         - div(2 * ${wh}::numeric * (a - s) + (e - s), 2 * (e - s)))::bigint END AS ${wh}`,
                )
                .join(",\n")}
       FROM records
       OFFSET 0
     ),
     per_meter AS (
       SELECT meter,
              sum(import_wh) AS import_wh,
              sum(export_wh) AS export_wh,
              sum(net_import) AS billed_import_wh,
              sum(CASE WHEN peak_s = 0 THEN 0
                       WHEN peak_s = length_s THEN net_import
                       ELSE div(2 * net_import::numeric * peak_s + length_s, 2 * length_s)::bigint END) AS peak_wh,
              sum(net_export) AS credited_export_wh
       FROM shares
       GROUP BY meter
     ),
     p2p_in_month AS (
       SELECT meter, sum(bought_wh) AS bought_wh, sum(bought_paid) AS bought_paid,
              sum(sold_wh) AS sold_wh, sum(sold_paid) AS sold_paid
       FROM billing_p2p
       WHERE interval_index * $8 >= $3 AND interval_index * $8 < $4
       GROUP BY meter
     )
     SELECT a.account_number, a.controller_id, a.base_bill, a.initial_base_bill,
            coalesce(sum(u.import_wh), 0) AS import_wh,
            coalesce(sum(u.export_wh), 0) AS export_wh,
            coalesce(sum(u.billed_import_wh), 0) AS billed_import_wh,
            coalesce(sum(u.peak_wh), 0) AS peak_wh,
            coalesce(sum(u.billed_import_wh - u.peak_wh), 0) AS off_peak_wh,
            coalesce(sum(u.credited_export_wh), 0) AS credited_export_wh,
            coalesce(sum(t.bought_wh), 0) AS p2p_bought_wh,
            coalesce(sum(t.bought_paid), 0) AS p2p_bought_paid,
            coalesce(sum(t.sold_wh), 0) AS p2p_sold_wh,
            coalesce(sum(t.sold_paid), 0) AS p2p_sold_paid
     FROM customer_accounts a
     LEFT JOIN smart_meters m ON m.account_number = a.account_number
     LEFT JOIN per_meter u ON u.meter = m.meter
     LEFT JOIN p2p_in_month t ON t.meter = m.meter
     WHERE $10::text[] IS NULL OR a.account_number = ANY($10::text[])
     GROUP BY a.account_number, a.controller_id, a.base_bill, a.initial_base_bill`,
    [...timeParams, L, lookbackS, p.accountNumbers === undefined ? null : [...p.accountNumbers]],
  );
}

/**
 * The time arithmetic of a record from `start` to `end` (SQL timestamptz expressions), in whole
 * unix seconds: s and e; a and b, the part inside the month [$3, $4); whether that is all of it;
 * and peak_s, the seconds of [a, b) in peak hours. Peak seconds come from F(x), the peak seconds of
 * local days from the epoch up to local time x: F(local b) - F(local a), with $6 the peak start and
 * $7 the peak length in seconds of the day.
 */
function timeColumns(start: string, end: string) {
  const s = `extract(epoch FROM ${start})::bigint`;
  const e = `extract(epoch FROM ${end})::bigint`;
  const ls = `extract(epoch FROM timezone($5, ${start}))::bigint`;
  const a = `greatest(${s}, $3)`;
  const b = `least(${e}, $4)`;
  const peakUpTo = (x: string) => `((${x}) / 86400 * $7 + least(greatest((${x}) % 86400 - $6, 0), $7))`;
  return {
    inside: `(${start} >= $1 AND ${end} <= $2)`,
    s,
    e,
    a,
    b,
    peak_s: `(${peakUpTo(`${ls} + ${b} - ${s}`)} - ${peakUpTo(`${ls} + ${a} - ${s}`)})`,
  };
}
