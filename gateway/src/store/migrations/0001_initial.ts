import type { Migration } from "../migrate.js";

/**
 * The gateway's first schema. Conventions, so that every value is exact and compares as the chain
 * compares it:
 * - uint64 and token amounts are NUMERIC domains bounded to their Solidity range (BIGINT is signed
 *   and stops at 2^63 − 1); BIGINT only where the range is known to be smaller (block numbers,
 *   uint48 watt-hours). No floating point anywhere.
 * - Addresses and hashes are lower-case 0x-hex text: the chain compares addresses case-blind, so
 *   one spelling makes equality and uniqueness agree with it. Writers lower-case them.
 * - `interval_index` is the trading interval t of ARCHITECTURE §4 (`interval` is an SQL keyword).
 */
export const initialMigration: Migration = {
  version: 1,
  name: "initial",
  sql: `
CREATE DOMAIN uint64 AS NUMERIC(20, 0)
  CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);
CREATE DOMAIN uint256 AS NUMERIC(78, 0)
  CHECK (VALUE >= 0 AND VALUE <= 115792089237316195423570985008687907853269984665640564039457584007913129639935);
CREATE DOMAIN eth_address AS TEXT CHECK (VALUE ~ '^0x[0-9a-f]{40}$');
CREATE DOMAIN bytes32 AS TEXT CHECK (VALUE ~ '^0x[0-9a-f]{64}$');

-- Chain indexer: how far each followed stream (one per contract) has been read. The block hash
-- lets the indexer notice on restart that the chain reorganised under its checkpoint.
CREATE TABLE chain_checkpoints (
  stream       TEXT PRIMARY KEY,
  contract     eth_address NOT NULL,
  block_number BIGINT NOT NULL CHECK (block_number >= 0),
  block_hash   bytes32 NOT NULL,
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every decoded contract event, keyed by where it sits in its block: a log re-delivered after a
-- restart is a duplicate, while the same log in a reorganised block (other hash) is a new row
-- until the indexer deletes the orphaned block's events.
CREATE TABLE chain_events (
  block_hash   bytes32 NOT NULL,
  log_index    INTEGER NOT NULL CHECK (log_index >= 0),
  block_number BIGINT NOT NULL CHECK (block_number >= 0),
  tx_hash      bytes32 NOT NULL,
  contract     eth_address NOT NULL,
  event_name   TEXT NOT NULL,
  -- uint values as decimal strings: JSON numbers lose precision above 2^53.
  args         JSONB NOT NULL,
  PRIMARY KEY (block_hash, log_index)
);
CREATE INDEX chain_events_by_block ON chain_events (block_number);
CREATE INDEX chain_events_by_event ON chain_events (contract, event_name, block_number, log_index);

-- The order book as the indexer reconstructs it from OfferPlaced / BidPlaced and what follows.
CREATE TABLE orders (
  order_id        uint256 PRIMARY KEY,
  interval_index  uint64 NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('offer', 'bid')),
  owner           eth_address NOT NULL,
  meter           eth_address NOT NULL,
  max_wh          BIGINT NOT NULL CHECK (max_wh > 0 AND max_wh < 281474976710656),
  filled_wh       BIGINT NOT NULL DEFAULT 0 CHECK (filled_wh >= 0 AND filled_wh <= max_wh),
  -- Token base units per kWh: the offer's minimum or the bid's maximum.
  limit_price     uint256 NOT NULL,
  -- Offers only: what the seller forfeits per kWh not delivered.
  penalty_per_kwh uint64,
  -- The bid's escrow or the offer's collateral.
  deposit         uint256 NOT NULL,
  status          TEXT NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'cancelled', 'matched', 'settled', 'released')),
  placed_block    BIGINT NOT NULL CHECK (placed_block >= 0),
  placed_tx       bytes32 NOT NULL,
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((side = 'offer') = (penalty_per_kwh IS NOT NULL))
);
CREATE INDEX orders_by_interval ON orders (interval_index, side, status);
CREATE INDEX orders_by_owner ON orders (owner, interval_index);

-- One clearing per interval, submitted as batches of fills (EnergyMarket.submitClearing).
CREATE TABLE clearings (
  interval_index uint64 PRIMARY KEY,
  -- Uniform price per kWh; 0 when nothing trades (then nothing is submitted).
  price          uint256 NOT NULL,
  volume_wh      BIGINT NOT NULL CHECK (volume_wh >= 0),
  batch_count    INTEGER NOT NULL CHECK (batch_count >= 0),
  status         TEXT NOT NULL
                 CHECK (status IN ('computed', 'submitting', 'finalized', 'empty', 'failed')),
  -- The transaction carrying the final batch, which finalises the clearing.
  finalize_tx    bytes32,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE clearing_batches (
  interval_index uint64 NOT NULL REFERENCES clearings ON DELETE CASCADE,
  batch          INTEGER NOT NULL CHECK (batch >= 0),
  -- The hash the contract stores for the batch; settlement must present the same fills.
  fills_hash     bytes32,
  submit_tx      bytes32,
  status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'submitted', 'confirmed')),
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (interval_index, batch)
);

CREATE TABLE clearing_fills (
  interval_index uint64 NOT NULL,
  batch          INTEGER NOT NULL,
  -- Position within the batch: fills are submitted, hashed and settled in this order.
  position       INTEGER NOT NULL CHECK (position >= 0),
  offer_id       uint64 NOT NULL,
  bid_id         uint64 NOT NULL,
  wh             BIGINT NOT NULL CHECK (wh > 0 AND wh < 281474976710656),
  PRIMARY KEY (interval_index, offer_id, bid_id),
  UNIQUE (interval_index, batch, position),
  FOREIGN KEY (interval_index, batch) REFERENCES clearing_batches ON DELETE CASCADE
);

-- Settlement of each submitted batch against the readings (EnergyMarket.settleBatch).
CREATE TABLE batch_settlements (
  interval_index uint64 NOT NULL,
  batch          INTEGER NOT NULL,
  status         TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'submitted', 'settled', 'failed')),
  tx_hash        bytes32,
  attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error     TEXT,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (interval_index, batch),
  FOREIGN KEY (interval_index, batch) REFERENCES clearing_batches ON DELETE CASCADE
);

-- Signed meter readings as received (contracts' MeterReading, EIP-712). A meter signs one reading
-- per sequence number and one per interval; a second, different one for either is a conflict.
CREATE TABLE readings (
  meter             eth_address NOT NULL,
  sequence          uint64 NOT NULL,
  interval_index    uint64 NOT NULL,
  import_start_wh   uint64 NOT NULL,
  import_end_wh     uint64 NOT NULL,
  export_start_wh   uint64 NOT NULL,
  export_end_wh     uint64 NOT NULL,
  -- The reading's own timestamp: unix seconds when the meter took the end-of-interval reading.
  reading_timestamp uint64 NOT NULL,
  signature         TEXT NOT NULL CHECK (signature ~ '^0x[0-9a-f]{130}$'),
  received_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- The DeliveryLedger transaction that recorded it on-chain, once there is one.
  recorded_tx       bytes32,
  PRIMARY KEY (meter, sequence),
  UNIQUE (meter, interval_index),
  CHECK (import_end_wh >= import_start_wh),
  CHECK (export_end_wh >= export_start_wh)
);
CREATE INDEX readings_by_interval ON readings (interval_index);

-- Meters and their identity status (MeterRegistry events; Secure ID on Fabric).
CREATE TABLE devices (
  meter      eth_address PRIMARY KEY,
  owner      eth_address NOT NULL,
  device_id  bytes32 NOT NULL UNIQUE,
  status     TEXT NOT NULL CHECK (status IN ('enrolled', 'active', 'deactivated')),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX devices_by_owner ON devices (owner);

-- Secure ID chaincode events (seed 004's event log DB). Fabric emits at most one chaincode event
-- per transaction, so the transaction id identifies it.
CREATE TABLE fabric_events (
  channel        TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  chaincode      TEXT NOT NULL,
  block_number   BIGINT NOT NULL CHECK (block_number >= 0),
  event_name     TEXT NOT NULL,
  payload        JSONB NOT NULL,
  received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, transaction_id)
);
CREATE INDEX fabric_events_by_block ON fabric_events (channel, chaincode, block_number);

-- Where chaincode event delivery resumes: the block, and within it the last transaction handled
-- (NULL once the whole block is done), as @hyperledger/fabric-gateway's checkpoints track it.
CREATE TABLE fabric_checkpoints (
  channel        TEXT NOT NULL,
  chaincode      TEXT NOT NULL,
  block_number   BIGINT NOT NULL CHECK (block_number >= 0),
  transaction_id TEXT,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, chaincode)
);
`,
};
