import type { Migration } from "../migrate.js";

/**
 * Which utility process does the utility's work. Several may run against one database (beside
 * several gateways, or as a standby): one holds the lease and polls, remakes, bills and buys; the
 * others serve the operator API and take over when the lease runs out. Times are the database's
 * own clock, the one clock every machine sharing the lease agrees on.
 */
export const utilityLeaseMigration: Migration = {
  version: 9,
  name: "utility_lease",
  sql: `
CREATE TABLE utility_lease (
  id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  holder      TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
  acquired_at TIMESTAMPTZ NOT NULL,
  renewed_at  TIMESTAMPTZ NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL,
  CHECK (expires_at > renewed_at)
);
`,
};
