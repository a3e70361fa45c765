import type { Address, Hex, SignedReading } from "@gridmesh/contracts";

/** The columns of a stored signed reading, selected as text so uint64 values stay exact. */
export const READING_COLUMNS = `meter, sequence::text, interval_index::text, import_start_wh::text, import_end_wh::text,
  export_start_wh::text, export_end_wh::text, reading_timestamp::text, signature`;

export type ReadingRow = {
  meter: string;
  sequence: string;
  interval_index: string;
  import_start_wh: string;
  import_end_wh: string;
  export_start_wh: string;
  export_end_wh: string;
  reading_timestamp: string;
  signature: string;
};

/** A stored row back into the signed reading the meter sent (the signature still verifies). */
export function signedReadingFromRow(row: ReadingRow): SignedReading {
  return {
    reading: {
      meter: row.meter as Address,
      interval: BigInt(row.interval_index),
      sequence: BigInt(row.sequence),
      importStartWh: BigInt(row.import_start_wh),
      importEndWh: BigInt(row.import_end_wh),
      exportStartWh: BigInt(row.export_start_wh),
      exportEndWh: BigInt(row.export_end_wh),
      timestamp: BigInt(row.reading_timestamp),
    },
    signature: row.signature as Hex,
  };
}
