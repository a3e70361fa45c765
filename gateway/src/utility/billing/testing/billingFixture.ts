import type { Clock } from "@gridmesh/contracts";

import { createLogger } from "../../../common/logger.js";
import { migrate, type Database } from "../../../store/index.js";
import { configureBilling, type BillingSettings } from "../billingSettings.js";
import { setBillingRates, type BillingRatesInput } from "../billingRates.js";

export const logger = createLogger({ level: "silent" });

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  delayUntil(atMs: number): number {
    return Math.max(0, atMs - this.ms);
  }
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
}

export const meterAddress = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const unix = (iso: string) => Date.parse(iso) / 1000;

/**
 * Rows for billing tests, written straight into the tables the utility's polling and the chain
 * indexer fill: controllers, accounts and meters, meter records, the hours held, P2P fills.
 */
export class BillingFixture {
  readonly clock = new ManualClock(Date.parse("2026-06-01T00:00:00Z"));
  #sequence = 0;
  #order = 0;
  #fill = 0;

  constructor(
    readonly db: Database,
    readonly settings: BillingSettings,
  ) {}

  static async open(db: Database, settings: Partial<BillingSettings> = {}): Promise<BillingFixture> {
    await migrate(db, { logger });
    const full = { timeZone: "UTC", intervalSeconds: 900, ...settings };
    await configureBilling(db, full);
    return new BillingFixture(db, full);
  }

  /** A controller that joined the fleet at `joinedIso` (before every month the suites bill). */
  async controller(id: string, joinedIso = "2026-01-01T00:00:00Z"): Promise<void> {
    await this.db.query(
      `INSERT INTO microgrid_controllers (controller_id, location, url, created_at)
       VALUES ($1, 'residential', 'http://127.0.0.1:1', $2)`,
      [id, joinedIso],
    );
  }

  /** An account with one meter per entry of `meters`; its base bill starts at its initial value. */
  async account(
    accountNumber: string,
    controllerId: string,
    baseBill: bigint,
    meters: number[],
    initialBaseBill = baseBill,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO customer_accounts (account_number, controller_id, initial_base_bill, base_bill)
       VALUES ($1, $2, $3, $4)`,
      [accountNumber, controllerId, initialBaseBill.toString(), baseBill.toString()],
    );
    for (const n of meters) {
      await this.db.query(
        `INSERT INTO smart_meters (meter, account_number, controller_id, function, direction)
         VALUES ($1, $2, $3, 'meter', 'bidirectional')`,
        [meterAddress(n), accountNumber, controllerId],
      );
    }
  }

  /** A record of meter `n` on the interval grid, for the interval starting at `startIso`. */
  async record(n: number, startIso: string, importWh: number, exportWh = 0): Promise<void> {
    const L = this.settings.intervalSeconds;
    const start = unix(startIso);
    if (start % L !== 0) throw new Error(`${startIso} is not the start of a ${L}-second interval`);
    await this.recordBetween(n, startIso, new Date((start + L) * 1000).toISOString(), importWh, exportWh);
  }

  /** A record with any start and end (a reading off the interval grid). */
  async recordBetween(
    n: number,
    startIso: string,
    endIso: string,
    importWh: number,
    exportWh = 0,
  ): Promise<void> {
    const seq = ++this.#sequence;
    const interval = Math.floor(unix(startIso) / this.settings.intervalSeconds);
    // Registers only need to be consistent within the row: billing reads their differences.
    await this.db.query(
      `INSERT INTO meter_records (meter, sequence, interval_index, start_time, end_time, import_start_wh, import_end_wh,
                                  export_start_wh, export_end_wh, reading_timestamp, signature, controller_id)
       SELECT $1::text, $2, $3, $4, $5, 1000, 1000 + $6::bigint, 500, 500 + $7::bigint, $8, $9,
              (SELECT controller_id FROM smart_meters WHERE meter = $1::text)`,
      [
        meterAddress(n),
        seq,
        interval,
        startIso,
        endIso,
        importWh,
        exportWh,
        unix(endIso),
        Buffer.alloc(65, 7),
      ],
    );
  }

  /** Marks every hour overlapping [fromIso, toIso) as received from the controller. */
  async hoursReceived(controllerId: string, fromIso: string, toIso: string): Promise<void> {
    await this.db.query(
      `INSERT INTO usage_hours (controller_id, hour, records, acknowledged)
       SELECT $1, h, 0, true
       FROM generate_series(date_trunc('hour', $2::timestamptz, 'UTC'), $3::timestamptz - interval '1 microsecond',
                            interval '1 hour') h
       ON CONFLICT DO NOTHING`,
      [controllerId, fromIso, toIso],
    );
  }

  async rates(input: BillingRatesInput): Promise<void> {
    await setBillingRates({ db: this.db, clock: this.clock, rates: input });
  }

  /**
   * A spot fill between two meters in the interval starting at `startIso`, as the indexer records
   * it: the seller's offer, the buyer's bid, the clearing batch, and (when delivered is given) the
   * settlement's delivered energy and payment.
   */
  async fill(p: {
    seller: number;
    buyer: number;
    startIso: string;
    wh: number;
    delivered: number | null;
    paid: bigint | null;
  }): Promise<void> {
    const interval = unix(p.startIso) / this.settings.intervalSeconds;
    const offer = ++this.#order;
    const bid = ++this.#order;
    const fill = ++this.#fill;
    for (const [id, side, meter] of [
      [offer, "offer", p.seller],
      [bid, "bid", p.buyer],
    ] as const) {
      await this.db.query(
        `INSERT INTO orders (order_id, interval_index, side, owner, meter, max_wh, filled_wh, limit_price,
                             penalty_per_kwh, deposit, status, placed_block, placed_tx)
         VALUES ($1, $2, $3, $4, $4, $5, $5, 100, $6, 0, 'matched', 1, $7)`,
        [id, interval, side, meterAddress(meter), p.wh, side === "offer" ? 10 : null, hash(id)],
      );
    }
    await this.db.query(
      `INSERT INTO chain_clearings (interval_index, price, batch_count) VALUES ($1, 100, 1) ON CONFLICT DO NOTHING`,
      [interval],
    );
    await this.db.query(
      `INSERT INTO chain_clearing_batches (interval_index, batch, fills_hash, fill_count, submit_block, submit_tx)
       VALUES ($1, 0, $2, 1, 1, $2) ON CONFLICT DO NOTHING`,
      [interval, hash(1_000_000 + fill)],
    );
    await this.db.query(
      `INSERT INTO chain_fills (interval_index, batch, position, offer_id, bid_id, wh, delivered_wh, paid, penalty)
       VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8)`,
      [
        interval,
        fill,
        offer,
        bid,
        p.wh,
        p.delivered,
        p.paid?.toString() ?? null,
        p.delivered === null ? null : "0",
      ],
    );
  }

  async baseBill(accountNumber: string): Promise<string> {
    const { rows } = await this.db.query<{ base_bill: string }>(
      "SELECT base_bill FROM customer_accounts WHERE account_number = $1",
      [accountNumber],
    );
    return rows[0]!.base_bill;
  }
}
