import type { Migration } from "../migrate.js";

/**
 * What the settlement relay needs to remember between runs: whether each stored reading is on the
 * DeliveryLedger (recorded by us, found there already, or refused for good, with the ledger's
 * reason), and why a clearing failed, for operators.
 */
export const settlementMigration: Migration = {
  version: 3,
  name: "settlement",
  sql: `
ALTER TABLE readings
  ADD COLUMN ledger_status TEXT NOT NULL DEFAULT 'pending'
    CHECK (ledger_status IN ('pending', 'recorded', 'rejected')),
  ADD COLUMN ledger_error TEXT;
CREATE INDEX readings_pending_on_ledger ON readings (meter, sequence) WHERE ledger_status = 'pending';

ALTER TABLE clearings ADD COLUMN last_error TEXT;
`,
};
