import type { Database } from "../store/index.js";

export type VerificationStatus =
  "awaiting-signatures" | "verifying" | "verified" | "failed" | "refused" | "expired" | "abandoned";

export type ActivationStatus = "active" | "failed" | "not-submitted";

export interface DepositRow {
  verifierMsp: string;
  txId: string | null;
  error: string | null;
}

export interface VerificationRow {
  requestId: string;
  deviceId: string;
  epoch: number;
  status: VerificationStatus;
  reason: string | null;
  verdictTxId: string | null;
  activationStatus: ActivationStatus | null;
  activationTx: string | null;
  activationError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttestationRow {
  verifierMsp: string;
  signer: string;
  signature: string | null;
  error: string | null;
}

export interface RegistryRow {
  meter: string;
  owner: string;
  status: string;
  updatedAt: Date;
}

type RawVerification = {
  request_id: string;
  device_id: string;
  epoch: number;
  status: VerificationStatus;
  reason: string | null;
  verdict_tx_id: string | null;
  activation_status: ActivationStatus | null;
  activation_tx: string | null;
  activation_error: string | null;
  created_at: Date;
  updated_at: Date;
};

const verificationOf = (r: RawVerification): VerificationRow => ({
  requestId: r.request_id,
  deviceId: r.device_id,
  epoch: r.epoch,
  status: r.status,
  reason: r.reason,
  verdictTxId: r.verdict_tx_id,
  activationStatus: r.activation_status,
  activationTx: r.activation_tx,
  activationError: r.activation_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The gateway's own records of the Secure ID work it relays and runs (migration 0004). */
export class IdentityStore {
  constructor(readonly db: Database) {}

  async recordDeposits(deviceId: string, epoch: number, deposits: readonly DepositRow[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const d of deposits) {
        await tx.query(
          `INSERT INTO identity_deposits (device_id, epoch, verifier_msp, tx_id, error) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (device_id, epoch, verifier_msp)
             DO UPDATE SET tx_id = EXCLUDED.tx_id, error = EXCLUDED.error, created_at = now()`,
          [deviceId, epoch, d.verifierMsp, d.txId, d.error],
        );
      }
    });
  }

  async deposits(deviceId: string, epoch: number): Promise<DepositRow[]> {
    const { rows } = await this.db.query<{
      verifier_msp: string;
      tx_id: string | null;
      error: string | null;
    }>("SELECT verifier_msp, tx_id, error FROM identity_deposits WHERE device_id = $1 AND epoch = $2", [
      deviceId,
      epoch,
    ]);
    return rows.map((r) => ({ verifierMsp: r.verifier_msp, txId: r.tx_id, error: r.error }));
  }

  async openVerification(requestId: string, deviceId: string, epoch: number): Promise<void> {
    await this.db.query(
      `INSERT INTO identity_verifications (request_id, device_id, epoch, status)
       VALUES ($1, $2, $3, 'awaiting-signatures')`,
      [requestId, deviceId, epoch],
    );
  }

  async setVerificationStatus(
    requestId: string,
    status: VerificationStatus,
    fields: { reason?: string | null; verdictTxId?: string | null } = {},
  ): Promise<void> {
    await this.db.query(
      `UPDATE identity_verifications
       SET status = $2, reason = COALESCE($3, reason), verdict_tx_id = COALESCE($4, verdict_tx_id), updated_at = now()
       WHERE request_id = $1`,
      [requestId, status, fields.reason ?? null, fields.verdictTxId ?? null],
    );
  }

  async recordActivation(
    requestId: string,
    activation: { status: ActivationStatus; txHash: string | null; error: string | null },
  ): Promise<void> {
    await this.db.query(
      `UPDATE identity_verifications
       SET activation_status = $2, activation_tx = $3, activation_error = $4, updated_at = now()
       WHERE request_id = $1`,
      [requestId, activation.status, activation.txHash, activation.error],
    );
  }

  /** Verifications a previous run prepared and can no longer finish: their pending state was in memory. */
  async abandonUnfinished(): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE identity_verifications
       SET status = 'abandoned', reason = 'the gateway stopped before the device answered', updated_at = now()
       WHERE status IN ('awaiting-signatures', 'verifying')`,
    );
    return rowCount;
  }

  async verification(requestId: string): Promise<VerificationRow | undefined> {
    const { rows } = await this.db.query<RawVerification>(
      "SELECT * FROM identity_verifications WHERE request_id = $1",
      [requestId],
    );
    return rows[0] === undefined ? undefined : verificationOf(rows[0]);
  }

  async lastVerification(deviceId: string): Promise<VerificationRow | undefined> {
    const { rows } = await this.db.query<RawVerification>(
      `SELECT * FROM identity_verifications WHERE device_id = $1
       ORDER BY created_at DESC, request_id DESC LIMIT 1`,
      [deviceId],
    );
    return rows[0] === undefined ? undefined : verificationOf(rows[0]);
  }

  /** The verification whose attestations activated the device, if one did. */
  async activatingVerification(deviceId: string): Promise<VerificationRow | undefined> {
    const { rows } = await this.db.query<RawVerification>(
      `SELECT * FROM identity_verifications WHERE device_id = $1 AND activation_status = 'active'
       ORDER BY updated_at DESC LIMIT 1`,
      [deviceId],
    );
    return rows[0] === undefined ? undefined : verificationOf(rows[0]);
  }

  async recordAttestations(requestId: string, attestations: readonly AttestationRow[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const a of attestations) {
        await tx.query(
          `INSERT INTO identity_attestations (request_id, verifier_msp, signer, signature, error)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (request_id, verifier_msp)
             DO UPDATE SET signer = EXCLUDED.signer, signature = EXCLUDED.signature, error = EXCLUDED.error,
                           created_at = now()`,
          [requestId, a.verifierMsp, a.signer.toLowerCase(), a.signature, a.error],
        );
      }
    });
  }

  async attestations(requestId: string): Promise<AttestationRow[]> {
    const { rows } = await this.db.query<{
      verifier_msp: string;
      signer: string;
      signature: string | null;
      error: string | null;
    }>(
      `SELECT verifier_msp, signer, signature, error FROM identity_attestations
       WHERE request_id = $1 ORDER BY signer`,
      [requestId],
    );
    return rows.map((r) => ({
      verifierMsp: r.verifier_msp,
      signer: r.signer,
      signature: r.signature,
      error: r.error,
    }));
  }

  /** The MeterRegistry's view of the device's meter, as the chain indexer projected it. */
  async registry(deviceId: string, meter: string): Promise<RegistryRow | undefined> {
    const { rows } = await this.db.query<{ meter: string; owner: string; status: string; updated_at: Date }>(
      "SELECT meter, owner, status, updated_at FROM devices WHERE meter = $1 AND device_id = $2",
      [meter, deviceId],
    );
    const r = rows[0];
    return r === undefined
      ? undefined
      : { meter: r.meter, owner: r.owner, status: r.status, updatedAt: r.updated_at };
  }
}
