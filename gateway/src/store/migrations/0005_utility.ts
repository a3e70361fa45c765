import type { Migration } from "../migrate.js";

/**
 * The utility's Customer Information Database (seed 000 §2.2.1, Table 3): the microgrid controllers,
 * the smart meters and customer accounts behind them, the meter records polled from the
 * controllers, and the bookkeeping of that polling (hours held, the failed-request queue, commands
 * waiting for a controller). Billing and supply keep their own tables (0006, 0007).
 *
 * Meter records keep the whole signed reading (registers, timestamp, signature) so that anyone
 * holding an export can re-verify every row against the meter's key.
 */
export const utilityMigration: Migration = {
  version: 5,
  name: "utility",
  sql: `
-- Seed 000: Controller_ID, Location, IP_Address. The URL is the controller's HTTP base URL.
CREATE TABLE microgrid_controllers (
  controller_id TEXT PRIMARY KEY CHECK (controller_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  location      TEXT NOT NULL CHECK (location IN ('residential', 'apartment', 'emergency')),
  url           TEXT NOT NULL CHECK (url ~ '^https?://'),
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Seed 000: Account_Number, Controller_ID, Base_Bill. Money is in the settlement token's base units
-- (the unit of put_billing_rates), never floating point. The initial base bill caps the +25% rule.
CREATE TABLE customer_accounts (
  account_number    TEXT PRIMARY KEY CHECK (account_number ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  controller_id     TEXT NOT NULL REFERENCES microgrid_controllers,
  initial_base_bill uint256 NOT NULL,
  base_bill         uint256 NOT NULL CHECK (base_bill <= initial_base_bill),
  created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX customer_accounts_by_controller ON customer_accounts (controller_id);

-- Seed 000: Meter_ID, Account_Number, IP_Address, Function, Direction, Controller_ID. A meter is
-- named by its signing address (as on chain); its agent's command URL is where the controller
-- reaches it.
CREATE TABLE smart_meters (
  meter          eth_address PRIMARY KEY,
  account_number TEXT NOT NULL REFERENCES customer_accounts,
  controller_id  TEXT NOT NULL REFERENCES microgrid_controllers,
  url            TEXT CHECK (url ~ '^https?://'),
  function       TEXT NOT NULL CHECK (function IN ('meter', 'meter_with_battery')),
  direction      TEXT NOT NULL CHECK (direction IN ('import', 'export', 'bidirectional')),
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX smart_meters_by_account ON smart_meters (account_number);
CREATE INDEX smart_meters_by_controller ON smart_meters (controller_id);

-- Seed 000 Meter Records: one row per signed interval reading, as the meter signed it. Registers are
-- BIGINT (a meter register never nears 2^63 Wh; a larger value is refused, not wrapped).
-- record_type 'interval' is a meter's own reading; lossy_aggregation marks rows rebuilt from a lossy
-- backup (none today: controllers keep backups losslessly). Deleted after six months.
CREATE TABLE meter_records (
  meter             eth_address NOT NULL REFERENCES smart_meters,
  sequence          BIGINT NOT NULL CHECK (sequence >= 0),
  record_type       TEXT NOT NULL DEFAULT 'interval' CHECK (record_type IN ('interval')),
  lossy_aggregation BOOLEAN NOT NULL DEFAULT false,
  interval_index    BIGINT NOT NULL CHECK (interval_index >= 0),
  start_time        TIMESTAMPTZ NOT NULL,
  end_time          TIMESTAMPTZ NOT NULL,
  import_start_wh   BIGINT NOT NULL CHECK (import_start_wh >= 0),
  import_end_wh     BIGINT NOT NULL,
  export_start_wh   BIGINT NOT NULL CHECK (export_start_wh >= 0),
  export_end_wh     BIGINT NOT NULL,
  import_wh         BIGINT GENERATED ALWAYS AS (import_end_wh - import_start_wh) STORED,
  export_wh         BIGINT GENERATED ALWAYS AS (export_end_wh - export_start_wh) STORED,
  reading_timestamp BIGINT NOT NULL CHECK (reading_timestamp >= 0),
  -- The 65-byte EIP-712 signature (r, s, v).
  signature         BYTEA NOT NULL CHECK (octet_length(signature) = 65),
  controller_id     TEXT NOT NULL,
  received_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (meter, sequence),
  UNIQUE (meter, interval_index),
  CHECK (end_time > start_time),
  CHECK (import_end_wh >= import_start_wh),
  CHECK (export_end_wh >= export_start_wh)
);
CREATE INDEX meter_records_by_time ON meter_records (start_time);

-- A record a controller delivered that the utility refused (bad signature, unknown meter, a second
-- different reading for a sequence): kept with the reason, never silently dropped.
CREATE TABLE rejected_records (
  id            BIGSERIAL PRIMARY KEY,
  controller_id TEXT NOT NULL,
  hour          TIMESTAMPTZ NOT NULL,
  record        JSONB NOT NULL,
  reason        TEXT NOT NULL,
  received_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Which completed hours of each controller's usage files the utility holds and has acknowledged.
CREATE TABLE usage_hours (
  controller_id TEXT NOT NULL REFERENCES microgrid_controllers,
  hour          TIMESTAMPTZ NOT NULL CHECK (date_trunc('hour', hour) = hour),
  records       INTEGER NOT NULL CHECK (records >= 0),
  rejected      INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),
  acknowledged  BOOLEAN NOT NULL DEFAULT false,
  received_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (controller_id, hour)
);

-- Seed 000's Failed Request Queue: hours whose get failed, remade one per second, oldest first.
-- A table rather than a file so that it commits with the records it stands for.
CREATE TABLE failed_requests (
  id            BIGSERIAL PRIMARY KEY,
  controller_id TEXT NOT NULL REFERENCES microgrid_controllers,
  hour          TIMESTAMPTZ NOT NULL CHECK (date_trunc('hour', hour) = hour),
  reason        TEXT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1),
  last_error    TEXT,
  first_failed_at TIMESTAMPTZ NOT NULL,
  last_failed_at  TIMESTAMPTZ NOT NULL,
  UNIQUE (controller_id, hour)
);

-- Seed 000 Usage Statistics, per month and controller. Contribution (generation less consumption)
-- may be negative, so values are signed NUMERIC watt-hours.
CREATE TABLE usage_statistics (
  month          TEXT NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  controller_id  TEXT NOT NULL REFERENCES microgrid_controllers,
  statistic_type TEXT NOT NULL CHECK (statistic_type IN ('generation', 'consumption', 'contribution')),
  value_wh       NUMERIC(30, 0) NOT NULL,
  -- Through which day of the month the value counts records (statistics are updated daily).
  through_day    DATE NOT NULL,
  computed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (month, controller_id, statistic_type)
);

-- Commands for controllers (put_billing_rates, demand reduction, data interval, grid supply), kept
-- until the controller accepted them so that an unreachable controller gets them when it is back.
CREATE TABLE controller_commands (
  id            BIGSERIAL PRIMARY KEY,
  controller_id TEXT NOT NULL REFERENCES microgrid_controllers,
  command       TEXT NOT NULL,
  params        JSONB NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'refused')),
  attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error    TEXT,
  created_at    TIMESTAMPTZ NOT NULL,
  delivered_at  TIMESTAMPTZ
);
CREATE INDEX controller_commands_pending ON controller_commands (controller_id, id) WHERE status = 'pending';
`,
};
