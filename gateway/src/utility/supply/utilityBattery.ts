import type { Queryable } from "../../store/index.js";

/**
 * The utility's battery: the storage Purchase_power buys into and the microgrids are supplied from.
 *
 * The model: every watt-hour the microgrids import through their meters comes out of the battery,
 * and every watt-hour they export goes into it; so the charge falls by the microgrids' net import
 * (Σ import_wh − Σ export_wh of meter_records) and rises by what the utility buys. The utility knows
 * that net import only as the records arrive (hourly, or hours late after an outage), so the charge
 * is drained when records arrive, whatever interval they cover: each round compares, per hour of
 * records, what has arrived with what was already charged to the battery and drains by the
 * difference. The charge stays within [0, capacity]: supply beyond the charge counts as unserved
 * (it came straight from the grid), exports beyond the capacity as spilled.
 */
export interface UtilityBattery {
  capacityWh: bigint;
  chargeWh: bigint;
  /** Below this the battery is critically low and is refilled even in peak hours. */
  criticalWh: bigint;
  accountingFrom: Date;
  unservedWh: bigint;
  spilledWh: bigint;
  updatedAt: Date;
}

type BatteryRow = {
  capacity_wh: bigint;
  charge_wh: bigint;
  critical_wh: bigint;
  accounting_from: Date;
  unserved_wh: bigint;
  spilled_wh: bigint;
  updated_at: Date;
};

const batteryOf = (r: BatteryRow): UtilityBattery => ({
  capacityWh: r.capacity_wh,
  chargeWh: r.charge_wh,
  criticalWh: r.critical_wh,
  accountingFrom: r.accounting_from,
  unservedWh: r.unserved_wh,
  spilledWh: r.spilled_wh,
  updatedAt: r.updated_at,
});

const HOUR_SECONDS = 3600n;

/** `fraction` of `wh`, rounded down, without floating point on the energy. */
export function fractionOfWh(wh: bigint, fraction: number): bigint {
  return (wh * BigInt(Math.round(fraction * 1_000_000))) / 1_000_000n;
}

/**
 * Records the battery the first time (charged to `initialChargeWh`, accounting from `atMs` so records
 * of energy supplied before it existed are not charged to it), and on later starts applies a changed
 * capacity or critical level while keeping the stored charge (cut to a smaller capacity).
 */
export async function ensureBattery(
  tx: Queryable,
  spec: { capacityWh: bigint; initialChargeWh: bigint; criticalWh: bigint; atMs: number },
): Promise<UtilityBattery> {
  const at = new Date(spec.atMs);
  const { rows } = await tx.query<BatteryRow>(
    `INSERT INTO supply_battery (id, capacity_wh, charge_wh, critical_wh, accounting_from, updated_at)
     VALUES (true, $1, $2, $3, $4, $4)
     ON CONFLICT (id) DO UPDATE SET capacity_wh = EXCLUDED.capacity_wh, critical_wh = EXCLUDED.critical_wh,
       charge_wh = LEAST(supply_battery.charge_wh, EXCLUDED.capacity_wh)
     RETURNING *`,
    [spec.capacityWh, spec.initialChargeWh, spec.criticalWh, at],
  );
  return batteryOf(rows[0]!);
}

export async function readBattery(db: Queryable): Promise<UtilityBattery | undefined> {
  const { rows } = await db.query<BatteryRow>("SELECT * FROM supply_battery WHERE id");
  return rows[0] === undefined ? undefined : batteryOf(rows[0]);
}

export interface DrainResult {
  battery: UtilityBattery;
  /** Hours of records with newly arrived readings. */
  hours: number;
  /** Net import of the newly arrived records (negative when they exported more than imported). */
  netImportWh: bigint;
}

/**
 * Drains (or charges) the battery by the net import of meter records that arrived since the last
 * round, looking back `lookbackHours` from `atMs`. Call inside a transaction holding the supply lock.
 */
export async function drainBySuppliedEnergy(
  tx: Queryable,
  { atMs, lookbackHours }: { atMs: number; lookbackHours: number },
): Promise<DrainResult> {
  const { rows: batteryRows } = await tx.query<BatteryRow>(
    "SELECT * FROM supply_battery WHERE id FOR UPDATE",
  );
  if (batteryRows[0] === undefined)
    throw new Error("the utility's battery is not recorded yet (ensureBattery)");
  let battery = batteryOf(batteryRows[0]);
  // Whole hours, so that an hour leaving the window is never seen half counted.
  const windowStartHour = BigInt(Math.floor(atMs / 3_600_000)) - BigInt(lookbackHours);
  const from = new Date(
    Math.max(battery.accountingFrom.getTime(), Number(windowStartHour * HOUR_SECONDS * 1000n)),
  );
  const { rows } = await tx.query<{
    hour: bigint;
    records: number;
    net: string;
    done_records: number | null;
    done_net: bigint | null;
  }>(
    `WITH arrived AS (
       SELECT floor(extract(epoch FROM start_time) / 3600)::bigint AS hour, count(*)::integer AS records,
              sum(import_wh - export_wh) AS net
       FROM meter_records WHERE start_time >= $1 GROUP BY 1
     )
     SELECT a.hour, a.records, a.net::text AS net, d.records AS done_records, d.net_import_wh AS done_net
     FROM arrived a LEFT JOIN supply_battery_hours d USING (hour)
     WHERE a.records > coalesce(d.records, 0)
     ORDER BY a.hour`,
    [from],
  );
  let charge = battery.chargeWh;
  let unserved = 0n;
  let spilled = 0n;
  let netImportWh = 0n;
  const at = new Date(atMs);
  for (const row of rows) {
    const delta = BigInt(row.net) - (row.done_net ?? 0n);
    netImportWh += delta;
    charge -= delta;
    if (charge < 0n) {
      unserved += -charge;
      charge = 0n;
    } else if (charge > battery.capacityWh) {
      spilled += charge - battery.capacityWh;
      charge = battery.capacityWh;
    }
    await tx.query(
      `INSERT INTO supply_battery_hours (hour, records, net_import_wh, accounted_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (hour) DO UPDATE SET records = EXCLUDED.records, net_import_wh = EXCLUDED.net_import_wh,
         accounted_at = EXCLUDED.accounted_at`,
      [row.hour, row.records, BigInt(row.net), at],
    );
  }
  // Hours behind the window are never compared again.
  await tx.query("DELETE FROM supply_battery_hours WHERE hour < $1", [windowStartHour]);
  if (rows.length > 0) {
    const { rows: updated } = await tx.query<BatteryRow>(
      `UPDATE supply_battery SET charge_wh = $1, unserved_wh = unserved_wh + $2, spilled_wh = spilled_wh + $3,
         updated_at = $4 WHERE id RETURNING *`,
      [charge, unserved, spilled, at],
    );
    battery = batteryOf(updated[0]!);
  }
  return { battery, hours: rows.length, netImportWh };
}

/** Adds purchased energy (never past the capacity: the excess is counted as spilled). */
export async function chargeBattery(tx: Queryable, wh: bigint, atMs: number): Promise<UtilityBattery> {
  const { rows } = await tx.query<BatteryRow>(
    `UPDATE supply_battery SET charge_wh = LEAST(capacity_wh, charge_wh + $1),
       spilled_wh = spilled_wh + GREATEST(0, charge_wh + $1 - capacity_wh), updated_at = $2
     WHERE id RETURNING *`,
    [wh, new Date(atMs)],
  );
  if (rows[0] === undefined) throw new Error("the utility's battery is not recorded yet (ensureBattery)");
  return batteryOf(rows[0]);
}
