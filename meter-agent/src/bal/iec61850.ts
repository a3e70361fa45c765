import type { BatteryStatus } from "./battery.js";

export interface Iec61850DataObject {
  /** Common data class: measured value, analogue setting, single-point status. */
  readonly cdc: "MV" | "ASG" | "SPS";
  /** Functional constraint of the value attribute (mag / setMag / stVal). */
  readonly fc: "MX" | "SP" | "ST";
  readonly value: number | boolean;
  readonly unit?: "V" | "A" | "Ah" | "%";
  /** Time stamp of the value (milliseconds since the epoch). */
  readonly t: number;
  /** Validity; "questionable" carries the oldData detail when the snapshot spans too long. */
  readonly q: "good" | "questionable";
  /** Not defined by IEC 61850-7-420 Ed. 1 for this logical node: a local extension. */
  readonly extension?: true;
}

export interface Iec61850Battery {
  /** Battery (IEC 61850-7-420 §8.2.2). */
  readonly ZBAT: Readonly<
    Record<"Vol" | "Amp" | "AhrRtg" | "MaxBatA" | "BatSt" | "SocPct", Iec61850DataObject>
  >;
  /** Battery charger. */
  readonly ZBTC: Readonly<Record<"ChaA" | "ReChaRte", Iec61850DataObject>>;
}

export interface ToIec61850Options {
  /**
   * A virtual battery's snapshot spans the readings it was built from; wider than this, every
   * value is marked questionable (oldData) rather than passed off as one instant's measurement.
   */
  readonly staleAfterMs?: number;
}

/**
 * Represents a BAL status as ZBAT and ZBTC data objects (seed 004, "Representing a BAL Device in
 * IEC 61850"). The seed announces a mapping table but does not contain it; this mapping follows
 * 7-420's data object semantics:
 * - ZBAT.Vol ← voltage; ZBAT.Amp ("battery drain current") ← current, whose sign already means
 *   discharge; ZBAT.AhrRtg (capacity rating) ← expected capacity; ZBAT.MaxBatA ("maximum battery
 *   discharge current") ← present maximum discharge current, the limit a client must respect now;
 *   ZBAT.BatSt ← true, the battery answered;
 * - ZBTC.ChaA ← charging current (0 while discharging); ZBTC.ReChaRte (re-charge rate) ← present
 *   maximum charge current;
 * - state of charge has no ZBAT data object in 7-420 Ed. 1, so it is carried as the marked
 *   extension ZBAT.SocPct, in percent.
 * Every value is stamped with the end of the snapshot interval.
 */
export function toIec61850(status: BatteryStatus, options: ToIec61850Options = {}): Iec61850Battery {
  const [start, end] = status.timestamp;
  const q =
    options.staleAfterMs !== undefined && end - start > options.staleAfterMs ? "questionable" : "good";
  const measured = (value: number, unit: Iec61850DataObject["unit"]): Iec61850DataObject => ({
    cdc: "MV",
    fc: "MX",
    value,
    unit,
    t: end,
    q,
  });
  const setting = (value: number, unit: Iec61850DataObject["unit"]): Iec61850DataObject => ({
    cdc: "ASG",
    fc: "SP",
    value,
    unit,
    t: end,
    q,
  });
  return {
    ZBAT: {
      Vol: measured(status.voltage, "V"),
      Amp: measured(status.current, "A"),
      AhrRtg: setting(status.expected.capacity, "Ah"),
      MaxBatA: setting(status.maxDischargeCurrent, "A"),
      BatSt: { cdc: "SPS", fc: "ST", value: true, t: end, q },
      SocPct: { ...measured(status.stateOfCharge * 100, "%"), extension: true },
    },
    ZBTC: {
      ChaA: measured(Math.max(0, -status.current), "A"),
      ReChaRte: setting(status.maxChargeCurrent, "A"),
    },
  };
}
