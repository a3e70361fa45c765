import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  type Address,
  type ReadingReceipt,
  type SignedReading,
} from "@gridmesh/contracts";

import type { Database, Queryable } from "../store/index.js";
import type { ReadingRow } from "../store/readingRows.js";
import { inlineSignerRecovery, type SignerRecovery } from "./signerRecovery.js";

/** Whether a meter was active in the registry for a whole interval (the DeliveryLedger's rule). */
export interface MeterActivity {
  activeThroughout(meter: Address, startsAt: bigint, endsAt: bigint): Promise<boolean>;
}

export interface ReadingIntakeParameters {
  db: Database;
  /** The DeliveryLedger whose EIP-712 domain readings are signed for. */
  chainId: bigint;
  ledger: Address;
  intervalSeconds: number;
  activity: MeterActivity;
  /** Where signatures are recovered; by default on this thread (the gateway passes a worker pool). */
  recovery?: SignerRecovery;
}

const types = mutableTypes(meterReadingTypes);

/** A stored neighbour: what continuity and conflicts are checked against. */
type StoredRow = Omit<ReadingRow, "meter" | "reading_timestamp">;

/**
 * Takes signed readings from meter agents and microgrid controllers into the store, checking each
 * before anything is written: the meter's signature, that the meter was active for the whole
 * interval, and consistency with the meter's readings already stored on both sides — sequence and
 * interval order, continuity between adjacent intervals, registers that never run backwards.
 * Agents retransmit newest first, so a reading may arrive before its predecessors; it is checked
 * against whichever neighbours are there. The idempotency key is (meter, sequence): the same
 * reading again is a harmless "duplicate", a different one under the same key is refused.
 */
export class ReadingIntake {
  readonly #p: ReadingIntakeParameters;
  readonly #recovery: SignerRecovery;

  constructor(parameters: ReadingIntakeParameters) {
    this.#p = parameters;
    this.#recovery =
      parameters.recovery ??
      inlineSignerRecovery(deliveryLedgerDomain(parameters.chainId, parameters.ledger), types);
  }

  /** One receipt per reading, in order; a refused reading never stops the others. */
  async submit(batch: readonly SignedReading[]): Promise<ReadingReceipt[]> {
    // Every signature is handed to the recovery at once, so it runs ahead while readings are stored.
    const signers = batch.map((s) => this.#recovery.recover(s.reading, s.signature));
    for (const pending of signers) pending.catch(() => undefined); // awaited below, in order
    const receipts: ReadingReceipt[] = [];
    for (const [i, signed] of batch.entries()) receipts.push(await this.#take(signed, await signers[i]!));
    return receipts;
  }

  async #take(signed: SignedReading, signer: string | null): Promise<ReadingReceipt> {
    const { reading: r, signature } = signed;
    const sequence = r.sequence.toString();
    const rejected = (error: string): ReadingReceipt => ({ sequence, status: "rejected", error });

    if (signer === null) return rejected("signature does not decode");
    if (signer.toLowerCase() !== r.meter.toLowerCase())
      return rejected(`signed by ${signer}, not by meter ${r.meter}`);
    if (r.sequence === 0n) return rejected("sequence must start at 1");
    const length = BigInt(this.#p.intervalSeconds);
    const startsAt = r.interval * length;
    if (r.timestamp < startsAt + length)
      return rejected(`timestamp ${r.timestamp} is before the interval's end ${startsAt + length}`);
    if (!(await this.#p.activity.activeThroughout(r.meter, startsAt, startsAt + length))) {
      return rejected(`meter ${r.meter} was not active throughout interval ${r.interval}`);
    }

    const meter = r.meter.toLowerCase();
    return this.#p.db.transaction(async (tx) => {
      // One meter's readings are checked and written one at a time, across gateway instances too.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [meter]);
      const same = await rowWhere(tx, "meter = $1 AND (sequence = $2 OR interval_index = $3)", [
        meter,
        sequence,
        r.interval.toString(),
      ]);
      if (same !== undefined) {
        const identical = same.sequence === sequence && same.signature === signature.toLowerCase();
        return identical
          ? { sequence, status: "duplicate" as const }
          : rejected(`conflicts with the stored reading ${same.sequence} of interval ${same.interval_index}`);
      }
      const before = await rowWhere(
        tx,
        "meter = $1 AND sequence < $2 ORDER BY readings.sequence DESC LIMIT 1",
        [meter, sequence],
      );
      const after = await rowWhere(
        tx,
        "meter = $1 AND sequence > $2 ORDER BY readings.sequence ASC LIMIT 1",
        [meter, sequence],
      );
      const problem = (before && fits(before, signed, "before")) ?? (after && fits(after, signed, "after"));
      if (problem) return rejected(problem);
      await tx.query(
        `INSERT INTO readings (meter, sequence, interval_index, import_start_wh, import_end_wh, export_start_wh,
           export_end_wh, reading_timestamp, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          meter,
          sequence,
          r.interval.toString(),
          r.importStartWh.toString(),
          r.importEndWh.toString(),
          r.exportStartWh.toString(),
          r.exportEndWh.toString(),
          r.timestamp.toString(),
          signature.toLowerCase(),
        ],
      );
      return { sequence, status: "stored" as const };
    });
  }
}

async function rowWhere(tx: Queryable, where: string, params: unknown[]): Promise<StoredRow | undefined> {
  const { rows } = await tx.query<StoredRow>(
    `SELECT sequence::text, interval_index::text, import_start_wh::text, import_end_wh::text,
            export_start_wh::text, export_end_wh::text, signature FROM readings WHERE ${where}`,
    params,
  );
  return rows[0];
}

/** Why `signed` cannot sit on this side of the stored neighbour `n`, or undefined when it can. */
function fits(n: StoredRow, { reading: r }: SignedReading, side: "before" | "after"): string | undefined {
  const [nInterval, nSeq] = [BigInt(n.interval_index), BigInt(n.sequence)];
  // Orient the pair as (earlier, later) by sequence.
  const [earlier, later] =
    side === "before"
      ? [
          { interval: nInterval, importEnd: BigInt(n.import_end_wh), exportEnd: BigInt(n.export_end_wh) },
          { interval: r.interval, importStart: r.importStartWh, exportStart: r.exportStartWh },
        ]
      : [
          { interval: r.interval, importEnd: r.importEndWh, exportEnd: r.exportEndWh },
          {
            interval: nInterval,
            importStart: BigInt(n.import_start_wh),
            exportStart: BigInt(n.export_start_wh),
          },
        ];
  if (later.interval <= earlier.interval) {
    return `interval ${r.interval} is out of order with stored reading ${nSeq} (interval ${nInterval})`;
  }
  if (later.interval === earlier.interval + 1n) {
    if (later.importStart !== earlier.importEnd || later.exportStart !== earlier.exportEnd) {
      return `discontinuous with stored reading ${nSeq} of the adjacent interval ${nInterval}`;
    }
  } else if (later.importStart < earlier.importEnd || later.exportStart < earlier.exportEnd) {
    return `registers run backwards against stored reading ${nSeq} (interval ${nInterval})`;
  }
  return undefined;
}
