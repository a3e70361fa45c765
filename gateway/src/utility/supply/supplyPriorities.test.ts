import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { demandReductionFor, gridShare } from "./supplyPriorities.js";
import { CONTROLLER_LOCATIONS, SUPPLY_STATUSES } from "./supplyStatus.js";

// Seed 000 §2.2.3, read row by row: emergency facilities always; apartments lose 50% in CRITICAL and
// everything in EMPTY; houses lose everything from CRITICAL on; LOW only asks for less demand.
const SEED_TABLE = {
  NORMAL: { emergency: 1, apartment: 1, residential: 1, reduce: false },
  LOW: { emergency: 1, apartment: 1, residential: 1, reduce: true },
  CRITICAL: { emergency: 1, apartment: 0.5, residential: 0, reduce: true },
  EMPTY: { emergency: 1, apartment: 0, residential: 0, reduce: true },
} as const;

describe("supply priorities", () => {
  for (const status of SUPPLY_STATUSES) {
    for (const location of CONTROLLER_LOCATIONS) {
      it(`routes ${SEED_TABLE[status][location]} of the feed to ${location} microgrids when supply is ${status}`, () => {
        assert.equal(gridShare(location, status), SEED_TABLE[status][location]);
      });
    }
    it(`${SEED_TABLE[status].reduce ? "asks" : "does not ask"} for demand reduction when supply is ${status}`, () => {
      assert.equal(demandReductionFor(status), SEED_TABLE[status].reduce);
    });
  }

  it("never gives a lower-priority location more than a higher one", () => {
    for (const status of SUPPLY_STATUSES) {
      assert.ok(gridShare("emergency", status) >= gridShare("apartment", status), status);
      assert.ok(gridShare("apartment", status) >= gridShare("residential", status), status);
    }
  });
});
