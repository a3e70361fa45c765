/**
 * SettlementMath.sol's arithmetic for the TypeScript side: prices are token base units per kWh and
 * energy is in Wh. What a party must lock (an offer's collateral, a bid's escrow) is rounded up and
 * what is paid is rounded down — the web app shows deposits before signing with these, and tests
 * check the contracts against them.
 */

/** The value of `wh` at `pricePerKwh`, rounded down: what a fill pays or a shortfall charges. */
export function valueOf(wh: bigint, pricePerKwh: bigint): bigint {
  return (wh * pricePerKwh) / 1000n;
}

/** The value of `wh` at `pricePerKwh`, rounded up: what must be locked to cover it. */
export function lockFor(wh: bigint, pricePerKwh: bigint): bigint {
  return (wh * pricePerKwh + 999n) / 1000n;
}
