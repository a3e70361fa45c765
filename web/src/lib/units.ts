/**
 * How the app shows GridMesh's integer units to people (ARCHITECTURE §4): energy is counted in
 * watt-hours and money in the payment token's base units. Conversions use bigint arithmetic so a
 * balance is never shown rounded the wrong way by floating point.
 */

/** Formats a base-unit amount with `decimals` places, trimming trailing zeros after `minFraction`. */
export function formatUnits(amount: bigint, decimals: number, minFraction = 0): string {
  if (!Number.isInteger(decimals) || decimals < 0)
    throw new RangeError(`decimals must be a whole number ≥ 0, got ${decimals}`);
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  let fraction = decimals === 0 ? "" : (abs % scale).toString().padStart(decimals, "0");
  while (fraction.length > minFraction && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  const sign = negative ? "-" : "";
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/** Parses a decimal string typed by a person into base units; refuses anything it would round. */
export function parseUnits(text: string, decimals: number): bigint {
  const match = /^\s*(-?)(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new Error(`"${text}" is not a number`);
  const [, sign, whole = "", fraction = ""] = match;
  if (fraction.length > decimals) throw new Error(`"${text}" has more than ${decimals} decimal places`);
  const value =
    BigInt(whole || "0") * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  return sign === "-" ? -value : value;
}

/** 1234 Wh → "1.234 kWh"; small amounts stay in Wh so that they never show as "0 kWh". */
export function formatEnergy(wattHours: bigint): string {
  const abs = wattHours < 0n ? -wattHours : wattHours;
  return abs < 1000n ? `${wattHours} Wh` : `${formatUnits(wattHours, 3)} kWh`;
}

/** A token amount with at least two decimal places, as money is usually shown. */
export function formatMoney(baseUnits: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(baseUnits, decimals, Math.min(2, decimals))} ${symbol}`;
}
