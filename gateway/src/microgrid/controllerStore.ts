import type { DatabaseSync, StatementSync } from "node:sqlite";

import { z } from "zod";

import { StoreError } from "../common/errors.js";
import type { MeterStateView } from "./controllerApi.js";
import { inTransaction } from "./controllerDatabase.js";

/** One row of Meter_States (seed 000 Table 1) with its Meter_Last_Update and stored sequence. */
export type MeterStateRow = Omit<MeterStateView, "lastSequence"> & {
  batteryReportedMs: number | null;
  storedThrough: bigint;
  acknowledgedThrough: bigint;
};

/** What a meter's `status` answer says about it. */
export interface MeterReport {
  isOn: boolean;
  sharingPower: boolean;
  aggregating: boolean;
  reducingPowerDemand: boolean;
  /** Null when the meter has no battery or could not read it. */
  batteryPercent: number | null;
}

export type MeterFlag = "sharingPower" | "reducingPowerDemand" | "aggregating";

/**
 * Nonces are reserved in blocks: one durable write per block instead of per command. After a
 * restart the controller continues above the whole reserved block, so a nonce it may already have
 * used is never signed again.
 */
const NONCE_BLOCK = 1024n;

const FLAG_COLUMNS: Record<MeterFlag, string> = {
  sharingPower: "sharing_power",
  reducingPowerDemand: "reducing_power_demand",
  aggregating: "aggregating",
};

/**
 * The controller's tables over its SQLite database. Meters are keyed by lower-case address;
 * every write commits before the call returns (`synchronous=FULL`).
 */
export class ControllerStore {
  readonly #db: DatabaseSync;
  readonly #q: Record<string, StatementSync>;
  #nextNonce: bigint;
  #reservedThrough: bigint;

  constructor(db: DatabaseSync) {
    this.#db = db;
    const q = (sql: string) => {
      const s = db.prepare(sql);
      s.setReadBigInts(true);
      return s;
    };
    this.#q = {
      addMeter: q(`INSERT INTO meter_states (meter, battery_threshold) VALUES (?, ?)
                   ON CONFLICT (meter) DO UPDATE SET battery_threshold = excluded.battery_threshold`),
      report:
        q(`UPDATE meter_states SET is_on = ?, sharing_power = ?, aggregating = ?, reducing_power_demand = ?,
                   battery_percent = ?, battery_reported_ms = ? WHERE meter = ?`),
      state: q(`SELECT s.*, u.last_update_ms, q.stored_through, q.acknowledged_through
                FROM meter_states s LEFT JOIN meter_last_update u USING (meter)
                LEFT JOIN meter_sequences q USING (meter) WHERE s.meter = ?`),
      lastUpdate: q(`INSERT INTO meter_last_update (meter, last_update_ms) VALUES (?, ?)
                     ON CONFLICT (meter) DO UPDATE SET last_update_ms = excluded.last_update_ms`),
      sequences: q(`INSERT INTO meter_sequences (meter, stored_through, acknowledged_through) VALUES (?, ?, ?)
                    ON CONFLICT (meter) DO UPDATE SET stored_through = excluded.stored_through,
                    acknowledged_through = excluded.acknowledged_through`),
      getVariable: q(`SELECT value FROM variables WHERE name = ?`),
      putVariable: q(`INSERT INTO variables (name, value) VALUES (?, ?)
                      ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
    };
    for (const flag of Object.keys(FLAG_COLUMNS) as MeterFlag[]) {
      this.#q[flag] = q(`UPDATE meter_states SET ${FLAG_COLUMNS[flag]} = ? WHERE meter = ?`);
    }
    // A decimal string: JSON numbers would round nonces above 2^53.
    this.#reservedThrough = BigInt(this.variable("nonceReservedThrough", z.string().regex(/^[0-9]+$/), "0"));
    this.#nextNonce = this.#reservedThrough + 1n;
  }

  /** Adds a configured meter, or updates its battery threshold (null: no battery). */
  addMeter(meter: string, batteryThreshold: number | null): void {
    this.#q.addMeter!.run(key(meter), batteryThreshold);
  }

  meterState(meter: string): MeterStateRow {
    const row = this.#q.state!.get(key(meter)) as Row | undefined;
    if (row === undefined) throw new StoreError(`meter ${meter} is not in the controller's Meter_States`);
    const flag = (v: unknown) => v === 1n;
    const num = (v: unknown) => (v === null ? null : Number(v));
    return {
      meter: row.meter as string,
      isOn: flag(row.is_on),
      sharingPower: flag(row.sharing_power),
      aggregating: flag(row.aggregating),
      reducingPowerDemand: flag(row.reducing_power_demand),
      batteryThreshold: num(row.battery_threshold),
      batteryPercent: num(row.battery_percent),
      batteryReportedMs: num(row.battery_reported_ms),
      lastUpdateMs: num(row.last_update_ms),
      storedThrough: (row.stored_through as bigint | null) ?? 0n,
      acknowledgedThrough: (row.acknowledged_through as bigint | null) ?? 0n,
    };
  }

  /** Records a meter's `status` answer: its states and, for a battery, its state of charge. */
  recordReport(meter: string, report: MeterReport, atMs: number): void {
    const b = (v: boolean) => (v ? 1 : 0);
    this.#q.report!.run(
      b(report.isOn),
      b(report.sharingPower),
      b(report.aggregating),
      b(report.reducingPowerDemand),
      report.batteryPercent,
      report.batteryPercent === null ? null : atMs,
      key(meter),
    );
  }

  /** Sets one state after the meter took a command that changes it. */
  setFlag(meter: string, flag: MeterFlag, on: boolean): void {
    this.#q[flag]!.run(on ? 1 : 0, key(meter));
  }

  /** Meter_Last_Update: data was received from the meter at `atMs`. */
  setLastUpdate(meter: string, atMs: number): void {
    this.#q.lastUpdate!.run(key(meter), atMs);
  }

  /** How far the meter's readings are in usage files, and how far the meter has been told so. */
  setSequences(meter: string, storedThrough: bigint, acknowledgedThrough: bigint): void {
    this.#q.sequences!.run(key(meter), storedThrough, acknowledgedThrough);
  }

  /** A variable as `schema` reads it, or `fallback` when unset. A stored value that no longer parses is an error. */
  variable<S extends z.ZodType>(name: string, schema: S, fallback: z.output<S>): z.output<S> {
    const text = this.#variableText(name);
    if (text === undefined) return fallback;
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new StoreError(`the stored controller variable ${name} is invalid: ${text}`);
    return parsed.data;
  }

  setVariable(name: string, value: unknown): void {
    this.#q.putVariable!.run(name, JSON.stringify(value));
  }

  /** Several writes as one: all of them survive a crash, or none. */
  transaction<T>(fn: () => T): T {
    return inTransaction(this.#db, fn);
  }

  /** The next command nonce: above every nonce this controller ever signed. */
  nextNonce(): bigint {
    if (this.#nextNonce > this.#reservedThrough) this.#reserve(this.#nextNonce + NONCE_BLOCK - 1n);
    return this.#nextNonce++;
  }

  /** A meter has seen `nonce` from us (e.g. from a previous installation): continue above it. */
  raiseNonceAbove(nonce: bigint): void {
    if (this.#nextNonce > nonce) return;
    this.#nextNonce = nonce + 1n;
    if (this.#nextNonce > this.#reservedThrough) this.#reserve(this.#nextNonce + NONCE_BLOCK - 1n);
  }

  #reserve(through: bigint): void {
    this.setVariable("nonceReservedThrough", through.toString());
    this.#reservedThrough = through;
  }

  #variableText(name: string): string | undefined {
    return (this.#q.getVariable!.get(name) as { value: string } | undefined)?.value;
  }
}

type Row = Record<string, unknown>;

function key(meter: string): string {
  return meter.toLowerCase();
}
