import type { Contract } from "ethers";
import type { Logger } from "pino";

import type { Address } from "@gridmesh/contracts";
import { LedgerNotYetError, recordMeterReadings } from "@gridmesh/contracts/ethers";

import type { Database } from "../store/database.js";
import { READING_COLUMNS, type ReadingRow, signedReadingFromRow } from "../store/readingRows.js";

export interface ReadingRelayOptions {
  db: Database;
  /** The DeliveryLedger, connected to the gateway's signer (any relayer may record a signed reading). */
  ledger: Contract;
  /** Readings per meter per transaction. */
  batchSize: number;
  confirmations: number;
  logger: Logger;
}

export interface RelayReport {
  recorded: number;
  alreadyOnLedger: number;
  rejected: number;
  /** Meters whose readings the ledger asked us to hold back for now. */
  waiting: number;
  failed: number;
}

/**
 * Readings to put on the ledger: new ones, and ones we recorded whose transaction the chain index
 * no longer holds (a reorg dropped it; the indexer clears recorded_tx). A reading someone else
 * recorded stays here until the index sees it, costing only a static call per round meanwhile.
 */
const RELAYABLE = "(ledger_status = 'pending' OR (ledger_status = 'recorded' AND recorded_tx IS NULL))";

/**
 * Puts the signed readings agents and controllers sent us on the DeliveryLedger, where settlement
 * reads them: each meter's pending readings oldest first (the ledger takes them in sequence), in
 * batches, through the shared recorder (static call first; readings it can never take are marked
 * rejected with its reason instead of blocking the meter). One meter's trouble never holds up
 * another's. Safe to run any number of times: a reading someone else recorded counts as recorded.
 */
export class ReadingRelay {
  readonly #o: ReadingRelayOptions;

  constructor(options: ReadingRelayOptions) {
    this.#o = options;
  }

  async step(): Promise<RelayReport> {
    const report: RelayReport = { recorded: 0, alreadyOnLedger: 0, rejected: 0, waiting: 0, failed: 0 };
    const { rows: meters } = await this.#o.db.query<{ meter: string }>(
      `SELECT DISTINCT meter FROM readings WHERE ${RELAYABLE} ORDER BY meter`,
    );
    for (const { meter } of meters) {
      try {
        await this.#relayMeter(meter as Address, report);
      } catch (e) {
        if (e instanceof LedgerNotYetError) {
          report.waiting++;
          this.#o.logger.debug({ meter, reason: e.message }, "ledger not ready for the meter's readings");
        } else {
          report.failed++;
          this.#o.logger.warn({ meter, err: e }, "relaying readings failed; will retry");
        }
      }
    }
    return report;
  }

  async #relayMeter(meter: Address, report: RelayReport): Promise<void> {
    // Each reading is offered at most once per step: a cursor, not "whatever is still relayable",
    // since a reading recorded by someone else stays relayable until the index catches up.
    let after = -1n;
    for (;;) {
      const { rows } = await this.#o.db.query<ReadingRow>(
        `SELECT ${READING_COLUMNS}
         FROM readings WHERE meter = $1 AND sequence > $2 AND ${RELAYABLE} ORDER BY readings.sequence LIMIT $3`,
        [meter, after, this.#o.batchSize],
      );
      if (rows.length === 0) return;
      const outcomes = await recordMeterReadings(this.#o.ledger, meter, rows.map(signedReadingFromRow), {
        confirmations: this.#o.confirmations,
      });
      if (outcomes.length === 0) return;
      await this.#o.db.transaction(async (tx) => {
        for (const o of outcomes) {
          if (o.status === "rejected") {
            report.rejected++;
            await tx.query(
              "UPDATE readings SET ledger_status = 'rejected', ledger_error = $3 WHERE meter = $1 AND sequence = $2",
              [meter, o.sequence, o.reason],
            );
          } else {
            if (o.status === "recorded") report.recorded++;
            else report.alreadyOnLedger++;
            await tx.query(
              "UPDATE readings SET ledger_status = 'recorded' WHERE meter = $1 AND sequence = $2",
              [meter, o.sequence],
            );
          }
        }
      });
      after = outcomes.reduce((max, o) => (o.sequence > max ? o.sequence : max), after);
    }
  }
}
