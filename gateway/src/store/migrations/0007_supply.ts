import type { Migration } from "../migrate.js";

/**
 * Regional supply and priorities (seed 000 §2.2.3): what the regional grid last said and what an
 * operator declared, the history of both, the utility's battery and what it bought for it, and the
 * last routing decision per controller, so that a restarted utility sends only what changed.
 *
 * Energy is in integer watt-hours (BIGINT: a battery never nears 2^63 Wh). Times are the utility's
 * Clock (simulated in demos and tests), never the database's now().
 */
export const supplyMigration: Migration = {
  version: 7,
  name: "supply",
  sql: `
-- One row. The effective status is the operator's override when there is one, else the feed's.
-- feed_status stays at the last answer while the feed fails: an error never reads as NORMAL.
CREATE TABLE supply_state (
  id                     BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  feed_source            TEXT,
  feed_status            TEXT CHECK (feed_status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  feed_answered_at       TIMESTAMPTZ,
  feed_failures          INTEGER NOT NULL DEFAULT 0 CHECK (feed_failures >= 0),
  feed_error             TEXT,
  feed_error_at          TIMESTAMPTZ,
  override_status        TEXT CHECK (override_status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  override_reason        TEXT,
  override_at            TIMESTAMPTZ,
  -- The last Purchase_power round, and the peak hours it went by.
  last_round_at          TIMESTAMPTZ,
  last_round_peak        BOOLEAN,
  peak_start_hour        INTEGER CHECK (peak_start_hour BETWEEN 0 AND 23),
  peak_end_hour          INTEGER CHECK (peak_end_hour BETWEEN 1 AND 24),
  peak_time_zone         TEXT,
  peak_source            TEXT,
  CHECK ((override_status IS NULL) = (override_at IS NULL))
);

-- Every change of the feed's status, every override set or cleared, every start of a feed outage.
CREATE TABLE supply_status_history (
  id               BIGSERIAL PRIMARY KEY,
  at               TIMESTAMPTZ NOT NULL,
  source           TEXT NOT NULL CHECK (source IN ('feed', 'feed_failure', 'override', 'override_cleared')),
  -- What the feed said or the operator declared; null for a failure or a cleared override.
  reported_status  TEXT CHECK (reported_status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  previous_status  TEXT CHECK (previous_status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  effective_status TEXT CHECK (effective_status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  note             TEXT
);

-- One row: the utility's battery. unserved_wh counts supplied energy the battery could not cover
-- (it came straight from the grid); spilled_wh exported energy it had no room for.
CREATE TABLE supply_battery (
  id              BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  capacity_wh     BIGINT NOT NULL CHECK (capacity_wh > 0),
  charge_wh       BIGINT NOT NULL CHECK (charge_wh >= 0),
  critical_wh     BIGINT NOT NULL CHECK (critical_wh >= 0),
  -- Meter records starting before this were supplied before the battery was recorded.
  accounting_from TIMESTAMPTZ NOT NULL,
  unserved_wh     BIGINT NOT NULL DEFAULT 0 CHECK (unserved_wh >= 0),
  spilled_wh      BIGINT NOT NULL DEFAULT 0 CHECK (spilled_wh >= 0),
  updated_at      TIMESTAMPTZ NOT NULL,
  CHECK (charge_wh <= capacity_wh)
);

-- Per hour of meter records (hour = floor(unix seconds / 3600)), what has been charged to the
-- battery so far: a round drains it by the difference when more records of the hour have arrived.
CREATE TABLE supply_battery_hours (
  hour          BIGINT PRIMARY KEY,
  records       INTEGER NOT NULL CHECK (records >= 0),
  net_import_wh BIGINT NOT NULL,
  accounted_at  TIMESTAMPTZ NOT NULL
);

-- Purchase_power's history: every purchase asked of the regional grid, granted or failed.
CREATE TABLE supply_purchases (
  id               BIGSERIAL PRIMARY KEY,
  at               TIMESTAMPTZ NOT NULL,
  peak             BOOLEAN NOT NULL,
  reason           TEXT NOT NULL CHECK (reason IN ('off_peak_refill', 'critical_refill')),
  requested_wh     BIGINT NOT NULL CHECK (requested_wh > 0),
  granted_wh       BIGINT NOT NULL CHECK (granted_wh >= 0 AND granted_wh <= requested_wh),
  supply_status    TEXT CHECK (supply_status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  charge_before_wh BIGINT NOT NULL,
  charge_after_wh  BIGINT NOT NULL,
  error            TEXT,
  CHECK ((error IS NULL) = (supply_status IS NOT NULL))
);
CREATE INDEX supply_purchases_by_time ON supply_purchases (at);

-- The last routing decision sent to each controller. A controller without a row runs as it starts:
-- its whole feed, no demand reduction.
CREATE TABLE supply_routing (
  controller_id    TEXT PRIMARY KEY REFERENCES microgrid_controllers ON DELETE CASCADE,
  fraction         NUMERIC(5, 4) NOT NULL CHECK (fraction BETWEEN 0 AND 1),
  demand_reduction BOOLEAN NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('NORMAL', 'LOW', 'CRITICAL', 'EMPTY')),
  decided_at       TIMESTAMPTZ NOT NULL
);
`,
};
