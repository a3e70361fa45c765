import type { Migration } from "../migrate.js";

/**
 * Home batteries as their meters report them (signed snapshots of every battery and partition of
 * the home's topology), for owners to see. One row per report; a meter's reports only move forward
 * in time, which is what refuses a replayed one.
 */
export const batteryReportsMigration: Migration = {
  version: 10,
  name: "battery_reports",
  sql: `
CREATE TABLE battery_reports (
  meter       TEXT NOT NULL CHECK (meter ~ '^0x[0-9a-f]{40}$'),
  taken_at    BIGINT NOT NULL CHECK (taken_at >= 0),
  batteries   JSONB NOT NULL,
  signature   TEXT NOT NULL,
  received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (meter, taken_at)
);
`,
};
