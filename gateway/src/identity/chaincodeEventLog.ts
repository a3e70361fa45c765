import { EventEmitter, once } from "node:events";

import type { CloseableEvents, LedgerEvent, SecureIdLedger } from "@gridmesh/chaincode/client";

import type { Logger } from "../common/logger.js";
import type { Database } from "../store/index.js";

export interface ChaincodeEventLogParameters {
  db: Database;
  ledger: SecureIdLedger;
  /** The organisation whose client identity reads the events. */
  asOrg: string;
  channel: string;
  chaincode: string;
  logger: Logger;
}

/** The last event appended: its block, and its transaction within the block. */
interface Checkpoint {
  blockNumber: bigint;
  transactionId: string | undefined;
}

/** Where the log stands, for the loop's status. */
export interface ChaincodeEventLogStatus {
  running: boolean;
  blockNumber: string | null;
  transactionId: string | null;
  appendedSinceStart: number;
  lastError: string | null;
}

/**
 * Seed 004's event log: every SecureId chaincode event, appended to `fabric_events` in the same
 * database transaction that moves the checkpoint in `fabric_checkpoints` past it. A crash either keeps
 * both or neither, and the subscription resumes from the checkpoint, so each event is stored exactly
 * once, in ledger order, across restarts.
 *
 * The subscription is long-lived: `ensureRunning` (a task of the gateway's loop) opens it when it is not
 * running, so a failure (ledger unreachable, database error) stops it and the next round reopens it.
 */
export class ChaincodeEventLog {
  readonly #p: ChaincodeEventLogParameters;
  readonly #appended = new EventEmitter();
  #events: CloseableEvents | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #position: Checkpoint | undefined;
  #count = 0;
  #lastError: string | null = null;

  constructor(parameters: ChaincodeEventLogParameters) {
    this.#p = parameters;
    this.#appended.setMaxListeners(0);
  }

  async ensureRunning(): Promise<ChaincodeEventLogStatus> {
    if (this.#running === undefined && !this.#closed) {
      this.#position = await this.#readCheckpoint();
      this.#running = this.#follow().finally(() => (this.#running = undefined));
    }
    return this.status();
  }

  status(): ChaincodeEventLogStatus {
    return {
      running: this.#running !== undefined,
      blockNumber: this.#position?.blockNumber.toString() ?? null,
      transactionId: this.#position?.transactionId ?? null,
      appendedSinceStart: this.#count,
      lastError: this.#lastError,
    };
  }

  /** Resolves once the log holds every event up to block `blockNumber`; rejects after `timeoutMs`. */
  async waitForBlock(blockNumber: bigint, timeoutMs = 10_000): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    while ((this.#position?.blockNumber ?? -1n) < blockNumber) {
      try {
        await once(this.#appended, "event", { signal });
      } catch {
        throw new Error(
          `the chaincode event log did not reach block ${blockNumber} within ${timeoutMs} ms ` +
            `(at ${this.#position?.blockNumber ?? "nothing"}; last error: ${this.#lastError ?? "none"})`,
        );
      }
    }
  }

  /** Stops the subscription after the event being appended, if any, is committed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#events?.close();
    await this.#running;
  }

  async #follow(): Promise<void> {
    const { ledger, asOrg, logger } = this.#p;
    try {
      const at = this.#position;
      this.#events = await ledger.events({
        asOrg,
        ...(at === undefined
          ? { startBlock: 0n }
          : {
              checkpoint: { getBlockNumber: () => at.blockNumber, getTransactionId: () => at.transactionId },
            }),
      });
      // Closed while opening: the close above found no subscription to end.
      if (this.#closed) this.#events.close();
      for await (const event of this.#events) {
        await this.#append(event);
        if (this.#closed) break;
      }
      this.#lastError = null;
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
      if (!this.#closed) logger.warn({ err: error }, "chaincode event log stopped; the loop will reopen it");
    } finally {
      this.#events?.close();
      this.#events = undefined;
    }
  }

  async #append(event: LedgerEvent): Promise<void> {
    const { db, channel, chaincode } = this.#p;
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO fabric_events (channel, transaction_id, chaincode, block_number, event_name, payload)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
        [channel, event.txId, chaincode, event.blockNumber, event.name, payloadJson(event.payload)],
      );
      await tx.query(
        `INSERT INTO fabric_checkpoints (channel, chaincode, block_number, transaction_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel, chaincode)
           DO UPDATE SET block_number = EXCLUDED.block_number, transaction_id = EXCLUDED.transaction_id,
                         updated_at = now()`,
        [channel, chaincode, event.blockNumber, event.txId],
      );
    });
    this.#position = { blockNumber: event.blockNumber, transactionId: event.txId };
    this.#count++;
    this.#appended.emit("event");
  }

  async #readCheckpoint(): Promise<Checkpoint | undefined> {
    const { rows } = await this.#p.db.query<{ block_number: bigint; transaction_id: string | null }>(
      "SELECT block_number, transaction_id FROM fabric_checkpoints WHERE channel = $1 AND chaincode = $2",
      [this.#p.channel, this.#p.chaincode],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    // A NULL transaction means the whole block was done (fabric-gateway's convention); resume after it.
    return row.transaction_id === null
      ? { blockNumber: row.block_number + 1n, transactionId: undefined }
      : { blockNumber: row.block_number, transactionId: row.transaction_id };
  }
}

/** Chaincode events are canonical JSON; anything else is kept, as hex, rather than lost. */
function payloadJson(payload: Uint8Array): string {
  const text = Buffer.from(payload).toString("utf8");
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify({ undecodedHex: Buffer.from(payload).toString("hex") });
  }
}
