import type { Migration } from "../migrate.js";

/**
 * Billing (seed 000 §2.2.4): each month's time-of-use rates (Table 3's Billing Rates), one billing
 * run per month, and the bills it created with their lines. A run, its bills and their lines never
 * change once written (triggers refuse it), and neither do the rates of a billed month: a bill
 * must stay reproducible from the rates and records it was made from.
 */
export const billingMigration: Migration = {
  version: 6,
  name: "billing",
  sql: `
-- What billing needs to know about the rest of the system, set by the service at start so that every
-- caller (the monthly loop, the operator's API) bills alike: the time zone whose days hold the peak
-- hours and whose months are billed, and the market's interval length, which places P2P fills
-- (known by interval index) in time.
CREATE TABLE billing_settings (
  id               BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  time_zone        TEXT NOT NULL,
  interval_seconds INTEGER NOT NULL CHECK (interval_seconds > 0),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Seed 000: Month_ID, Peak_Hour_Rate, Non_Peak_Hour_Rate, Starting_Peak_Hour, Ending_Peak_Hour.
-- Rates are token base units per kWh, as in put_billing_rates. Peak hours are the whole hours
-- [peak_start_hour, peak_end_hour) of each day in time_zone, the zone the rates were set in.
CREATE TABLE billing_rates (
  month           TEXT PRIMARY KEY CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  peak_rate       uint256 NOT NULL,
  off_peak_rate   uint256 NOT NULL,
  peak_start_hour SMALLINT NOT NULL CHECK (peak_start_hour BETWEEN 0 AND 23),
  peak_end_hour   SMALLINT NOT NULL CHECK (peak_end_hour BETWEEN 1 AND 24),
  time_zone       TEXT NOT NULL,
  set_at          TIMESTAMPTZ NOT NULL,
  CHECK (peak_start_hour < peak_end_hour)
);

-- One Create_bills run per month. period_start/end are the month's bounds in its time zone.
-- A forced run records what was missing when the operator overrode the completeness check.
CREATE TABLE billing_runs (
  month            TEXT PRIMARY KEY REFERENCES billing_rates,
  period_start     TIMESTAMPTZ NOT NULL,
  period_end       TIMESTAMPTZ NOT NULL CHECK (period_end > period_start),
  interval_seconds INTEGER NOT NULL CHECK (interval_seconds > 0),
  forced           BOOLEAN NOT NULL,
  force_reason     TEXT,
  missing_data     JSONB NOT NULL,
  accounts         INTEGER NOT NULL CHECK (accounts >= 0),
  total_due        uint256 NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL,
  CHECK (forced OR (force_reason IS NULL AND missing_data = '[]'::jsonb))
);

-- One bill per account and month. Energy columns are watt-hours within the month: gross meter
-- import/export, what P2P fills delivered, and what was left to bill or credit after netting.
-- subtotal = base bill + charges - credits (may be negative); total_due = max(subtotal, 0).
CREATE TABLE bills (
  account_number       TEXT NOT NULL REFERENCES customer_accounts,
  month                TEXT NOT NULL REFERENCES billing_runs,
  controller_id        TEXT NOT NULL,
  base_bill            uint256 NOT NULL,
  next_base_bill       uint256 NOT NULL,
  base_bill_rule       TEXT NOT NULL CHECK (base_bill_rule IN ('reduced', 'increased', 'capped', 'unchanged')),
  import_wh            NUMERIC(30, 0) NOT NULL CHECK (import_wh >= 0),
  export_wh            NUMERIC(30, 0) NOT NULL CHECK (export_wh >= 0),
  p2p_bought_wh        NUMERIC(30, 0) NOT NULL CHECK (p2p_bought_wh >= 0),
  p2p_sold_wh          NUMERIC(30, 0) NOT NULL CHECK (p2p_sold_wh >= 0),
  billed_import_wh     NUMERIC(30, 0) NOT NULL CHECK (billed_import_wh >= 0),
  credited_export_wh   NUMERIC(30, 0) NOT NULL CHECK (credited_export_wh >= 0),
  subtotal             NUMERIC(80, 0) NOT NULL,
  total_due            uint256 NOT NULL,
  forced               BOOLEAN NOT NULL,
  created_at           TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (month, account_number),
  CHECK (total_due = GREATEST(subtotal, 0))
);
CREATE INDEX bills_by_account ON bills (account_number, month);

-- A bill's lines in order. amount is what the line adds to the bill (credits negative; P2P lines 0,
-- since they were paid on chain); the amounts sum to the bill's total_due. onchain_amount is what
-- the P2P fills paid or earned on chain, shown for information.
CREATE TABLE bill_lines (
  month          TEXT NOT NULL,
  account_number TEXT NOT NULL,
  position       SMALLINT NOT NULL CHECK (position >= 0),
  kind           TEXT NOT NULL CHECK (kind IN ('base_bill', 'import_peak', 'import_off_peak', 'export_credit',
                                               'p2p_purchase', 'p2p_sale', 'negative_bill_adjustment')),
  description    TEXT NOT NULL,
  energy_wh      NUMERIC(30, 0) CHECK (energy_wh >= 0),
  rate_per_kwh   uint256,
  amount         NUMERIC(80, 0) NOT NULL,
  onchain_amount uint256,
  PRIMARY KEY (month, account_number, position),
  FOREIGN KEY (month, account_number) REFERENCES bills
);

CREATE FUNCTION billing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable once billed', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER billing_runs_immutable BEFORE UPDATE OR DELETE ON billing_runs
  FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER bills_immutable BEFORE UPDATE OR DELETE ON bills
  FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER bill_lines_immutable BEFORE UPDATE OR DELETE ON bill_lines
  FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

-- The application refuses too, with a better message; this holds whatever writes to the table.
CREATE FUNCTION billing_rates_refuse_billed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM billing_runs WHERE month = OLD.month) THEN
    RAISE EXCEPTION 'the rates of % are immutable: the month is billed', OLD.month
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER billing_rates_billed BEFORE UPDATE OR DELETE ON billing_rates
  FOR EACH ROW EXECUTE FUNCTION billing_rates_refuse_billed();
`,
};
