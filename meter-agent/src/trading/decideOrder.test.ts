import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { type Address, lockFor } from "@gridmesh/contracts";

import { type Decision, decideOrder, type MarketSnapshot } from "./decideOrder.js";
import type { Forecast } from "./forecast.js";

const OWNER = "0x00000000000000000000000000000000000000a1" as Address;

/** A meter that may trade: 1 kWh per interval, selling at ≥ 0.10, buying at ≤ 0.20 (6-decimal token). */
const ready: MarketSnapshot = {
  nowSeconds: 1_000n,
  interval: 20n,
  gateClosure: 1_190n,
  paused: false,
  owner: OWNER,
  delegation: {
    maxWhPerInterval: 1000n,
    minSellPricePerKwh: 100_000n,
    maxBuyPricePerKwh: 200_000n,
    expiry: 5_000n,
  },
  usedWh: 0n,
  meterOwner: OWNER,
  meterActive: true,
  penaltyPerKwh: 50_000n,
  ownerBalance: 10n ** 9n,
  ownerAllowance: 10n ** 9n,
  meterGasWei: 10n ** 18n,
};
const forecast = (netWh: number): Forecast => ({
  kind: "forecast",
  netWh,
  readingsWh: netWh,
  batteryWh: 0,
  readingsUsed: 4,
});
const reason = (d: Decision) => (d.kind === "skip" ? d.reason : d.kind);

describe("decideOrder", () => {
  it("offers a surplus at the delegation's floor, posting the penalty as collateral", () => {
    assert.deepEqual(decideOrder(ready, forecast(600), 10n), {
      kind: "place",
      side: "offer",
      wh: 600n,
      pricePerKwh: 100_000n,
      deposit: 30_000n,
    });
  });

  it("bids for a deficit at the delegation's ceiling, escrowing its worst-case cost", () => {
    assert.deepEqual(decideOrder(ready, forecast(-401), 10n), {
      kind: "place",
      side: "bid",
      wh: 401n,
      pricePerKwh: 200_000n,
      deposit: lockFor(401n, 200_000n),
    });
    assert.equal(lockFor(401n, 200_000n), 80_200n);
    assert.equal(lockFor(1n, 1n), 1n, "deposits round up, as the contract's");
  });

  it("clips an order to the delegation's volume per interval and says so", () => {
    const d = decideOrder(ready, forecast(-2500), 10n);
    assert.deepEqual(d.kind === "place" && [d.wh, d.clippedFromWh], [1000n, 2500n]);
  });

  it("places nothing without a live delegation, and says why", () => {
    const none = { ...ready, delegation: { ...ready.delegation, expiry: 0n } };
    const d = decideOrder(none, forecast(600), 10n);
    assert.deepEqual(d, {
      kind: "skip",
      reason: "no-delegation",
      message: `${OWNER} has not authorised this meter to trade for it`,
    });
    const expired = { ...ready, delegation: { ...ready.delegation, expiry: 1_000n } };
    assert.equal(reason(decideOrder(expired, forecast(600), 10n)), "delegation-expired");
  });

  it("places nothing on a paused market, for a meter the owner does not own or that is inactive", () => {
    assert.equal(reason(decideOrder({ ...ready, paused: true }, forecast(600), 10n)), "market-paused");
    const other = "0x00000000000000000000000000000000000000b2" as Address;
    assert.equal(reason(decideOrder({ ...ready, meterOwner: other }, forecast(600), 10n)), "not-owner");
    assert.equal(reason(decideOrder({ ...ready, meterActive: false }, forecast(600), 10n)), "meter-inactive");
    assert.equal(reason(decideOrder({ ...ready, nowSeconds: 1_190n }, forecast(600), 10n)), "gate-closed");
  });

  it("places a second order for no interval", () => {
    const d = decideOrder({ ...ready, usedWh: 300n }, forecast(600), 10n);
    assert.equal(reason(d), "already-placed");
  });

  it("places nothing without a forecast or for a balanced home", () => {
    assert.equal(reason(decideOrder(ready, { kind: "none", reason: "no reading" }, 10n)), "no-forecast");
    assert.equal(reason(decideOrder(ready, forecast(9), 10n)), "balanced");
    assert.equal(reason(decideOrder(ready, forecast(-9), 10n)), "balanced");
  });

  it("keeps within the delegation's limits: no buying at a zero ceiling, no order under the minimum", () => {
    const noBuying = { ...ready, delegation: { ...ready.delegation, maxBuyPricePerKwh: 0n } };
    assert.equal(reason(decideOrder(noBuying, forecast(-500), 10n)), "buying-not-allowed");
    assert.equal(reason(decideOrder(noBuying, forecast(500), 10n)), "place", "selling is still allowed");
    const tiny = { ...ready, delegation: { ...ready.delegation, maxWhPerInterval: 5n } };
    const d = decideOrder(tiny, forecast(500), 10n);
    assert.equal(reason(d), "volume-limit");
    assert.match(d.kind === "skip" ? d.message : "", /leaves 5 Wh for interval 20, under the 10 Wh minimum/);
  });

  it("places nothing the owner's allowance, balance or the meter's gas cannot pay for", () => {
    // 600 Wh offered at a 0.05 penalty: 30,000 of collateral.
    assert.equal(
      reason(decideOrder({ ...ready, ownerAllowance: 29_999n }, forecast(600), 10n)),
      "insufficient-allowance",
    );
    assert.equal(reason(decideOrder({ ...ready, ownerAllowance: 30_000n }, forecast(600), 10n)), "place");
    assert.equal(
      reason(decideOrder({ ...ready, ownerBalance: 29_999n }, forecast(600), 10n)),
      "insufficient-balance",
    );
    assert.equal(reason(decideOrder({ ...ready, meterGasWei: 0n }, forecast(600), 10n)), "no-gas");
  });
});
