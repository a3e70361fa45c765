import type { Database } from "../../store/index.js";

/**
 * A small market, written straight into the tables the indexer and the submitter fill, so that
 * every route has something to serve: interval 100 cleared and finalized in two batches (one
 * settled, one whose settlement failed), 101 a failed clearing, 102 an open book with uint values
 * past 2^53, 103 an empty clearing; readings in every ledger status; devices in every status.
 * Tests derive what the API must answer from these same values.
 */

export const address = (n: number | bigint) => `0x${n.toString(16).padStart(40, "0")}`;
export const hash = (n: number | bigint) => `0x${n.toString(16).padStart(64, "0")}`;
const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute));

export const accounts = {
  alice: address(0xa11ce),
  bob: address(0xb0b),
  carol: address(0xca401),
  dave: address(0xda7e),
};
export const meters = {
  alice: address(0xa1),
  alice2: address(0xa2),
  bob: address(0xb1),
  carol: address(0xc1),
  dave: address(0xd1),
};

export interface DeviceFixture {
  meter: string;
  owner: string;
  deviceId: string;
  status: "enrolled" | "active" | "deactivated";
  updatedAt: Date;
}

export const devices: DeviceFixture[] = [
  { meter: meters.alice, owner: accounts.alice, deviceId: hash(1), status: "active", updatedAt: at(1) },
  { meter: meters.alice2, owner: accounts.alice, deviceId: hash(2), status: "enrolled", updatedAt: at(2) },
  { meter: meters.bob, owner: accounts.bob, deviceId: hash(3), status: "active", updatedAt: at(3) },
  { meter: meters.carol, owner: accounts.carol, deviceId: hash(4), status: "active", updatedAt: at(4) },
  { meter: meters.dave, owner: accounts.dave, deviceId: hash(5), status: "deactivated", updatedAt: at(5) },
];

export interface OrderFixture {
  orderId: bigint;
  interval: bigint;
  side: "offer" | "bid";
  owner: string;
  meter: string;
  maxWh: bigint;
  filledWh: bigint;
  /** Columns of migration 2 (the indexer's): settlement progress and what a release paid back. */
  settledWh: bigint;
  deliveredWh: bigint;
  releasedAmount: bigint | null;
  limitPrice: bigint;
  penaltyPerKwh: bigint | null;
  deposit: bigint;
  status: "open" | "cancelled" | "matched" | "settled" | "released";
  placedBlock: bigint;
  updatedAt: Date;
}

const order = (
  orderId: bigint,
  interval: bigint,
  side: "offer" | "bid",
  who: keyof typeof accounts,
  maxWh: bigint,
  limitPrice: bigint,
  status: OrderFixture["status"],
  filledWh = 0n,
): OrderFixture => ({
  orderId,
  interval,
  side,
  owner: accounts[who],
  meter: meters[who],
  maxWh,
  filledWh,
  settledWh: status === "settled" ? filledWh : 0n,
  deliveredWh: status === "settled" ? (filledWh * 9n) / 10n : 0n,
  releasedAmount: status === "released" ? 12_345n : null,
  limitPrice,
  penaltyPerKwh: side === "offer" ? 20n : null,
  deposit: (maxWh * limitPrice) / 1000n + 1n,
  status,
  placedBlock: 1000n + (orderId % 1000n),
  updatedAt: at(Number(orderId % 50n)),
});

const BIG_ID = (1n << 64n) + 3n;
const BIG_WH = (1n << 47n) + 1n;
const BIG_PRICE = (1n << 100n) + 7n;

export const orders: OrderFixture[] = [
  order(1n, 100n, "offer", "alice", 400n, 40n, "settled", 400n),
  order(2n, 100n, "offer", "bob", 300n, 55n, "matched", 100n),
  order(3n, 100n, "offer", "carol", 200n, 90n, "released"),
  order(4n, 100n, "bid", "carol", 300n, 70n, "settled", 300n),
  order(5n, 100n, "bid", "dave", 200n, 60n, "matched", 200n),
  order(6n, 100n, "bid", "bob", 100n, 80n, "cancelled"),
  order(7n, 101n, "offer", "alice", 100n, 50n, "open"),
  order(8n, 101n, "bid", "carol", 100n, 60n, "open"),
  order(9n, 102n, "offer", "bob", 250n, 45n, "open"),
  order(10n, 102n, "offer", "alice", 150n, 45n, "open"),
  order(11n, 102n, "bid", "carol", 100n, 80n, "open"),
  { ...order(BIG_ID, 102n, "bid", "dave", BIG_WH, BIG_PRICE, "open"), deposit: (1n << 200n) + 9n },
];

export interface ClearingFixture {
  interval: bigint;
  price: bigint;
  volumeWh: bigint;
  status: "computed" | "submitting" | "finalized" | "empty" | "failed";
  lastError: string | null;
  finalizeTx: string | null;
  createdAt: Date;
  updatedAt: Date;
  batches: {
    fillsHash: string;
    submitTx: string | null;
    status: "pending" | "submitted" | "confirmed";
    fills: { offerId: bigint; bidId: bigint; wh: bigint }[];
    settlement?: {
      status: "pending" | "submitted" | "settled" | "failed";
      txHash: string | null;
      attempts: number;
      lastError: string | null;
      updatedAt: Date;
    };
  }[];
}

export const clearings: ClearingFixture[] = [
  {
    interval: 100n,
    price: 55n,
    volumeWh: 500n,
    status: "finalized",
    lastError: null,
    finalizeTx: hash(0xf100),
    createdAt: at(10),
    updatedAt: at(11),
    batches: [
      {
        fillsHash: hash(0x1000),
        submitTx: hash(0x5100),
        status: "confirmed",
        fills: [
          { offerId: 1n, bidId: 4n, wh: 300n },
          { offerId: 1n, bidId: 5n, wh: 100n },
        ],
        settlement: {
          status: "settled",
          txHash: hash(0x5e00),
          attempts: 1,
          lastError: null,
          updatedAt: at(20),
        },
      },
      {
        fillsHash: hash(0x1001),
        submitTx: hash(0x5101),
        status: "confirmed",
        fills: [{ offerId: 2n, bidId: 5n, wh: 100n }],
        settlement: {
          status: "failed",
          txHash: null,
          attempts: 3,
          lastError: "EnergyMarketBatchNotDue(100, 1)",
          updatedAt: at(21),
        },
      },
    ],
  },
  {
    interval: 101n,
    price: 50n,
    volumeWh: 100n,
    status: "failed",
    lastError: "EnergyMarketFillAbovePrice(8, 50, 60)",
    finalizeTx: null,
    createdAt: at(12),
    updatedAt: at(13),
    batches: [
      {
        fillsHash: hash(0x1010),
        submitTx: null,
        status: "pending",
        fills: [{ offerId: 7n, bidId: 8n, wh: 100n }],
      },
    ],
  },
  {
    interval: 103n,
    price: 0n,
    volumeWh: 0n,
    status: "empty",
    lastError: null,
    finalizeTx: null,
    createdAt: at(14),
    updatedAt: at(14),
    batches: [],
  },
];

export interface ReadingFixture {
  meter: string;
  sequence: bigint;
  interval: bigint;
  importStartWh: bigint;
  importEndWh: bigint;
  exportStartWh: bigint;
  exportEndWh: bigint;
  timestamp: bigint;
  signature: string;
  ledgerStatus: "pending" | "recorded" | "rejected";
  ledgerError: string | null;
  recordedTx: string | null;
  receivedAt: Date;
}

const reading = (
  meter: string,
  sequence: bigint,
  ledgerStatus: ReadingFixture["ledgerStatus"],
  extra: Partial<ReadingFixture> = {},
): ReadingFixture => ({
  meter,
  sequence,
  interval: 99n + sequence,
  importStartWh: 1000n * sequence,
  importEndWh: 1000n * sequence + 1000n,
  exportStartWh: 10n * sequence,
  exportEndWh: 10n * sequence + 10n,
  timestamp: (100n + sequence) * 900n,
  signature: `0x${sequence.toString(16).padStart(2, "0").repeat(65)}`,
  ledgerStatus,
  ledgerError: null,
  recordedTx: ledgerStatus === "recorded" ? hash(0x7000n + sequence) : null,
  receivedAt: at(30 + Number(sequence)),
  ...extra,
});

export const readings: ReadingFixture[] = [
  reading(meters.alice, 1n, "recorded"),
  reading(meters.alice, 2n, "recorded"),
  reading(meters.alice, 3n, "rejected", { ledgerError: "DeliveryLedgerReadingDiscontinuous(3)" }),
  reading(meters.alice, 4n, "pending"),
  reading(meters.bob, 1n, "pending"),
];

/** Writes every fixture into a database migrated to the gateway's current schema. */
export async function insertFixtures(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const d of devices) {
      await tx.query(
        "INSERT INTO devices (meter, owner, device_id, status, updated_at) VALUES ($1, $2, $3, $4, $5)",
        [d.meter, d.owner, d.deviceId, d.status, d.updatedAt],
      );
    }
    for (const o of orders) {
      await tx.query(
        `INSERT INTO orders (order_id, interval_index, side, owner, meter, max_wh, filled_wh, settled_wh,
           delivered_wh, released_amount, limit_price, penalty_per_kwh, deposit, status, placed_block, placed_tx,
           updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          o.orderId,
          o.interval,
          o.side,
          o.owner,
          o.meter,
          o.maxWh,
          o.filledWh,
          o.settledWh,
          o.deliveredWh,
          o.releasedAmount,
          o.limitPrice,
          o.penaltyPerKwh,
          o.deposit,
          o.status,
          o.placedBlock,
          hash(0xbeef0000n + o.orderId),
          o.updatedAt,
        ],
      );
    }
    for (const c of clearings) {
      await tx.query(
        `INSERT INTO clearings (interval_index, price, volume_wh, batch_count, status, last_error, finalize_tx,
           created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          c.interval,
          c.price,
          c.volumeWh,
          c.batches.length,
          c.status,
          c.lastError,
          c.finalizeTx,
          c.createdAt,
          c.updatedAt,
        ],
      );
      for (const [batch, b] of c.batches.entries()) {
        await tx.query(
          "INSERT INTO clearing_batches (interval_index, batch, fills_hash, submit_tx, status) VALUES ($1, $2, $3, $4, $5)",
          [c.interval, batch, b.fillsHash, b.submitTx, b.status],
        );
        for (const [position, f] of b.fills.entries()) {
          await tx.query(
            `INSERT INTO clearing_fills (interval_index, batch, position, offer_id, bid_id, wh)
             VALUES ($1, $2, $3, $4, $5, $6)`,
            [c.interval, batch, position, f.offerId, f.bidId, f.wh],
          );
        }
        const s = b.settlement;
        if (s !== undefined) {
          await tx.query(
            `INSERT INTO batch_settlements (interval_index, batch, status, tx_hash, attempts, last_error, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [c.interval, batch, s.status, s.txHash, s.attempts, s.lastError, s.updatedAt],
          );
        }
      }
    }
    for (const r of readings) {
      await tx.query(
        `INSERT INTO readings (meter, sequence, interval_index, import_start_wh, import_end_wh, export_start_wh,
           export_end_wh, reading_timestamp, signature, ledger_status, ledger_error, recorded_tx, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [
          r.meter,
          r.sequence,
          r.interval,
          r.importStartWh,
          r.importEndWh,
          r.exportStartWh,
          r.exportEndWh,
          r.timestamp,
          r.signature,
          r.ledgerStatus,
          r.ledgerError,
          r.recordedTx,
          r.receivedAt,
        ],
      );
    }
  });
}

/** Every row of every table the API reads or writes, in a stable order: "nothing changed" compares these. */
export async function snapshotTables(db: Database): Promise<string> {
  const tables = [
    "devices",
    "orders",
    "clearings",
    "clearing_batches",
    "clearing_fills",
    "batch_settlements",
    "readings",
  ];
  const dump: Record<string, unknown> = {};
  for (const table of tables) {
    const { rows } = await db.query(`SELECT * FROM ${table}`);
    dump[table] = rows
      .map((row) => JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)))
      .sort();
  }
  return JSON.stringify(dump);
}
