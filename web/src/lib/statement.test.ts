import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { statementGaps } from "./statement.js";

void describe("statementGaps", () => {
  void it("says nothing when the period is complete", () => {
    assert.deepEqual(statementGaps([]), []);
  });

  void it("adds up hours missing or failed across controllers, and unsettled P2P deliveries", () => {
    const hours = { first: "2026-03-02T10:00:00.000Z", last: "2026-03-02T11:00:00.000Z" };
    assert.deepEqual(
      statementGaps([
        { kind: "missing_hours", controllerId: "mg-1", hours: 2, ...hours },
        { kind: "failed_requests", controllerId: "mg-2", hours: 1, ...hours },
        { kind: "unsettled_p2p", deliveries: 1, firstInterval: "10", lastInterval: "10" },
      ]),
      ["3 hours of meter data not received yet", "1 P2P delivery not settled on chain yet"],
    );
    assert.deepEqual(statementGaps([{ kind: "missing_hours", controllerId: "mg-1", hours: 1, ...hours }]), [
      "1 hour of meter data not received yet",
    ]);
  });
});
