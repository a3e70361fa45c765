import type { Migration } from "../migrate.js";

/**
 * What the chain indexer (gateway/src/indexer) needs beyond the first schema: the blocks it stopped
 * at (for reorg detection), key indexes into chain_events (so that a reorg rebuilds only the
 * intervals, meters and schedules it touched), and its read models of what the chain recorded.
 *
 * Every table created here is a projection of chain_events and is deleted and rebuilt by the
 * indexer: nothing else may write to it. The gateway's own bookkeeping of what it submitted stays
 * in clearings / clearing_batches / clearing_fills / batch_settlements, which the indexer never
 * touches; chain_clearings and its children are the chain's side of the same story.
 */
export const indexerMigration: Migration = {
  version: 2,
  name: "indexer",
  sql: `
-- The blocks the indexer's ranges ended at, the newest few hundred kept: with the blocks of the
-- stored events they are the known hashes a reorg is walked back through. The checkpoint's block is
-- always here, with the timestamp that says how far in time the index reaches.
CREATE TABLE indexed_blocks (
  block_number    BIGINT PRIMARY KEY CHECK (block_number >= 0),
  block_hash      bytes32 NOT NULL UNIQUE,
  parent_hash     bytes32 NOT NULL,
  block_timestamp BIGINT NOT NULL CHECK (block_timestamp >= 0)
);

CREATE INDEX chain_events_by_interval ON chain_events ((args->>'interval'));
CREATE INDEX chain_events_by_order ON chain_events ((args->>'orderId'));
CREATE INDEX chain_events_by_meter ON chain_events ((args->>'meter'));
CREATE INDEX chain_events_by_schedule ON chain_events (contract, (args->>'id'));

-- Settlement progress of each order (FillSettled), and what its release paid back (OrderReleased).
ALTER TABLE orders
  ADD COLUMN settled_wh BIGINT NOT NULL DEFAULT 0 CHECK (settled_wh >= 0 AND settled_wh <= filled_wh),
  ADD COLUMN delivered_wh BIGINT NOT NULL DEFAULT 0 CHECK (delivered_wh >= 0 AND delivered_wh <= settled_wh),
  ADD COLUMN released_amount uint256;

-- The registry lets anyone enrol a meter under any device id (only the meter key consents), so two
-- meters can share one; a unique index would stop the indexer at the second for good.
ALTER TABLE devices DROP CONSTRAINT devices_device_id_key;
CREATE INDEX devices_by_device_id ON devices (device_id);

-- Each interval's clearing as EnergyMarket recorded it: ClearingBatchSubmitted, ClearingFinalized,
-- FillSettled, BatchSettled. The fills are the batch's exactly as submitted, in order, which is
-- what settleBatch must be given again.
CREATE TABLE chain_clearings (
  interval_index uint64 PRIMARY KEY,
  price          uint256 NOT NULL,
  batch_count    INTEGER NOT NULL CHECK (batch_count > 0),
  finalize_tx    bytes32
);

CREATE TABLE chain_clearing_batches (
  interval_index uint64 NOT NULL REFERENCES chain_clearings ON DELETE CASCADE,
  batch          INTEGER NOT NULL CHECK (batch >= 0),
  fills_hash     bytes32 NOT NULL,
  fill_count     INTEGER NOT NULL CHECK (fill_count > 0),
  submit_block   BIGINT NOT NULL CHECK (submit_block >= 0),
  submit_tx      bytes32 NOT NULL,
  settle_tx      bytes32,
  PRIMARY KEY (interval_index, batch)
);

CREATE TABLE chain_fills (
  interval_index uint64 NOT NULL,
  batch          INTEGER NOT NULL,
  position       INTEGER NOT NULL CHECK (position >= 0),
  offer_id       uint64 NOT NULL,
  bid_id         uint64 NOT NULL,
  wh             BIGINT NOT NULL CHECK (wh > 0),
  -- Set by FillSettled.
  delivered_wh   BIGINT CHECK (delivered_wh >= 0 AND delivered_wh <= wh),
  paid           uint256,
  penalty        uint256,
  settle_tx      bytes32,
  PRIMARY KEY (interval_index, batch, position),
  FOREIGN KEY (interval_index, batch) REFERENCES chain_clearing_batches ON DELETE CASCADE
);
CREATE INDEX chain_fills_by_pair ON chain_fills (interval_index, offer_id, bid_id);

-- Readings the DeliveryLedger recorded (ReadingRecorded): one per meter and interval.
CREATE TABLE chain_readings (
  meter          eth_address NOT NULL,
  interval_index uint64 NOT NULL,
  sequence       uint64 NOT NULL,
  imported_wh    uint64 NOT NULL,
  exported_wh    uint64 NOT NULL,
  import_end_wh  uint64 NOT NULL,
  export_end_wh  uint64 NOT NULL,
  block_number   BIGINT NOT NULL CHECK (block_number >= 0),
  tx_hash        bytes32 NOT NULL,
  PRIMARY KEY (meter, interval_index)
);

-- readings.recorded_tx mirrors chain_readings whichever arrives first: the indexer sets it on rows
-- already there, and this fills it in on rows the reading intake stores afterwards.
CREATE FUNCTION readings_recorded_tx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.recorded_tx IS NULL THEN
    NEW.recorded_tx := (SELECT c.tx_hash FROM chain_readings c
                        WHERE c.meter = NEW.meter AND c.interval_index = NEW.interval_index
                          AND c.sequence = NEW.sequence);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER readings_recorded_tx BEFORE INSERT ON readings
  FOR EACH ROW EXECUTE FUNCTION readings_recorded_tx();

-- What each seller meter owes per interval and product (ObligationAdded), summed.
CREATE TABLE delivery_obligations (
  meter          eth_address NOT NULL,
  interval_index uint64 NOT NULL,
  market         eth_address NOT NULL,
  wh             NUMERIC(30, 0) NOT NULL CHECK (wh >= 0),
  PRIMARY KEY (meter, interval_index, market)
);

-- Forwards and options (ForwardMarket, OptionMarket), keyed by contract and schedule id.
CREATE TABLE delivery_schedules (
  contract          eth_address NOT NULL,
  schedule_id       uint256 NOT NULL,
  product           TEXT NOT NULL CHECK (product IN ('forward', 'option')),
  -- proposed: a forward awaiting acceptance or an option not exercised (yet); active: delivering.
  status            TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'completed', 'cancelled', 'expired')),
  seller            eth_address,
  seller_meter      eth_address,
  buyer             eth_address,
  buyer_meter       eth_address,
  -- Forwards: who may accept (NULL: anyone). Options: who bought it.
  counterparty      eth_address,
  holder            eth_address,
  first_interval    uint64 NOT NULL,
  last_interval     uint64 NOT NULL,
  wh_per_interval   BIGINT NOT NULL CHECK (wh_per_interval > 0),
  -- The terms as emitted: a forward's pricing formula, an option's strike and premium.
  terms             JSONB NOT NULL,
  penalty_per_kwh   uint64 NOT NULL,
  seller_margin     uint256,
  buyer_margin      uint256,
  premium           uint256,
  exercise_deadline uint64,
  created_block     BIGINT NOT NULL CHECK (created_block >= 0),
  created_tx        bytes32 NOT NULL,
  PRIMARY KEY (contract, schedule_id)
);
CREATE INDEX delivery_schedules_by_seller ON delivery_schedules (seller);
CREATE INDEX delivery_schedules_by_buyer ON delivery_schedules (buyer);

CREATE TABLE scheduled_deliveries (
  contract       eth_address NOT NULL,
  schedule_id    uint256 NOT NULL,
  interval_index uint64 NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('committed', 'settled', 'voided')),
  -- NULL for a voided interval, which nobody committed.
  wh             BIGINT CHECK (wh > 0),
  delivered_wh   BIGINT CHECK (delivered_wh >= 0),
  price_per_kwh  uint256,
  paid           uint256,
  penalty        uint256,
  PRIMARY KEY (contract, schedule_id, interval_index),
  FOREIGN KEY (contract, schedule_id) REFERENCES delivery_schedules ON DELETE CASCADE
);
CREATE INDEX scheduled_deliveries_by_interval ON scheduled_deliveries (interval_index);
`,
};
