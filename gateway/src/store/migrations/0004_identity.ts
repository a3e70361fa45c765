import type { Migration } from "../migrate.js";

/**
 * What the gateway remembers of the Secure ID work it does for devices. The ledger stays the record of
 * identities, seals and verdicts; these tables hold what only the gateway knows: which shard deposits
 * it relayed and how they went, each verification it ran (including the ones the ledger refused, which
 * leave no verdict there), the verifier organisations' attestations, and the MeterRegistry activation.
 */
export const identityMigration: Migration = {
  version: 4,
  name: "identity",
  sql: `
-- Delivery order of the chaincode event log, for reading it back page by page in ledger order (a
-- Fabric block may hold several transactions, so the block number alone does not order them).
ALTER TABLE fabric_events ADD COLUMN position BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;

-- One row per verifier organisation per seal: the deposit transaction, or why it failed.
CREATE TABLE identity_deposits (
  device_id    bytes32 NOT NULL,
  epoch        INTEGER NOT NULL CHECK (epoch > 0),
  verifier_msp TEXT NOT NULL,
  tx_id        TEXT,
  error        TEXT,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, epoch, verifier_msp),
  CHECK ((tx_id IS NULL) <> (error IS NULL))
);

-- A verification from the moment the gateway prepares it (awaiting the device's signatures) to its
-- verdict ('verified' or 'failed', both on the ledger) or its end without one: 'refused' (the ledger
-- refused the request), 'expired' (no signatures in time), 'abandoned' (the gateway stopped first).
CREATE TABLE identity_verifications (
  request_id        TEXT PRIMARY KEY,
  device_id         bytes32 NOT NULL,
  epoch             INTEGER NOT NULL CHECK (epoch > 0),
  status            TEXT NOT NULL CHECK (status IN
                      ('awaiting-signatures', 'verifying', 'verified', 'failed', 'refused', 'expired', 'abandoned')),
  reason            TEXT,
  verdict_tx_id     bytes32,
  activation_status TEXT CHECK (activation_status IN ('active', 'failed', 'not-submitted')),
  activation_tx     bytes32,
  activation_error  TEXT,
  created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((status IN ('verified', 'failed')) = (verdict_tx_id IS NOT NULL))
);
CREATE INDEX identity_verifications_by_device ON identity_verifications (device_id, created_at);

-- Each in-process verifier attestor's answer for a verdict: its EIP-712 signature, or why it refused.
CREATE TABLE identity_attestations (
  request_id   TEXT NOT NULL REFERENCES identity_verifications ON DELETE CASCADE,
  verifier_msp TEXT NOT NULL,
  signer       eth_address NOT NULL,
  signature    TEXT,
  error        TEXT,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, verifier_msp),
  CHECK ((signature IS NULL) <> (error IS NULL))
);
`,
};
