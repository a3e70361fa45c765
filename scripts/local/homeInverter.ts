/**
 * The home's battery inverter, as the simulated devices see it. A JBD BMS cannot set a current: it
 * only switches its charge and discharge FETs (the agent's BAL does that through its driver), and
 * the current is whatever the inverter behind it drives. This decides that current (BAL sign:
 * positive discharges):
 *
 * - both FETs on (the BMS's state before the agent acts): self-consumption, charging from solar
 *   surplus and covering the home's load;
 * - discharge only (the agent shares its charge, or covers the home's demand): the inverter's rating,
 *   the part beyond the home's load flowing into the microgrid;
 * - charge only (the agent stores surplus): the solar surplus, as far as the inverter goes;
 * - both off: nothing.
 *
 * The BMS simulator then refuses a current its FETs or its charge do not allow.
 */
export interface InverterInputs {
  mosfets: { charge: boolean; discharge: boolean };
  solarW: number;
  loadW: number;
  voltageV: number;
  maxChargeA: number;
  maxDischargeA: number;
  inverterW: number;
}

export function inverterCurrent(p: InverterInputs): number {
  const { mosfets, voltageV } = p;
  if (!(voltageV > 0)) return 0;
  const netW = p.loadW - p.solarW;
  const dischargeA = (w: number) =>
    Math.max(0, Math.min(w / voltageV, p.maxDischargeA, p.inverterW / voltageV));
  const chargeA = (w: number) => Math.max(0, Math.min(w / voltageV, p.maxChargeA, p.inverterW / voltageV));
  if (mosfets.charge && mosfets.discharge) return netW > 0 ? dischargeA(netW) : -chargeA(-netW);
  if (mosfets.discharge) return dischargeA(p.inverterW);
  if (mosfets.charge) return -chargeA(-netW);
  return 0;
}
