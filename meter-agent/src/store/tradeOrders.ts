import type { DatabaseSync, StatementSync } from "node:sqlite";

import type { Address, Hex } from "@gridmesh/contracts";

import { StoreError } from "./storeErrors.js";

export type TradeSide = "offer" | "bid";

/**
 * `sent`: signed and recorded, maybe broadcast, outcome unknown; `placed`: mined, the order
 * exists; `failed`: mined and reverted (no order); `dropped`: can never be mined (its nonce went
 * to another transaction, or it was refused when broadcast).
 */
export type TradeStatus = "sent" | "placed" | "failed" | "dropped";

/** One attempt at the one order the trader places for a market interval. */
export interface TradeOrder {
  market: Address;
  interval: bigint;
  side: TradeSide;
  owner: Address;
  wh: bigint;
  pricePerKwh: bigint;
  nonce: number;
  txHash: Hex;
  rawTx: Hex;
  status: TradeStatus;
  orderId: bigint | null;
  reason: string | null;
  createdMs: number;
  updatedMs: number;
}

export type NewTradeOrder = Omit<TradeOrder, "status" | "orderId" | "reason" | "updatedMs">;

/**
 * The automatic trader's memory of its orders, in the reading store's database: at most one
 * attempt per market and interval is live, so a restarted agent finds what it already sent.
 */
export class TradeOrders {
  readonly #q: Record<"get" | "put" | "settle" | "forget" | "recent", StatementSync>;

  /** @internal Made by ReadingStore, which owns the database. */
  constructor(db: DatabaseSync) {
    const q = (sql: string) => {
      const s = db.prepare(sql);
      s.setReadBigInts(true);
      return s;
    };
    this.#q = {
      get: q(`SELECT * FROM trade_orders WHERE market = ? AND interval = ?`),
      // A new attempt replaces only one that can no longer become an order.
      put: q(`INSERT INTO trade_orders (market, interval, side, owner, wh, price_per_kwh, nonce, tx_hash, raw_tx,
                status, created_ms, updated_ms)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?)
              ON CONFLICT (market, interval) DO UPDATE SET side = excluded.side, owner = excluded.owner,
                wh = excluded.wh, price_per_kwh = excluded.price_per_kwh, nonce = excluded.nonce,
                tx_hash = excluded.tx_hash, raw_tx = excluded.raw_tx, status = 'sent', order_id = NULL,
                reason = NULL, created_ms = excluded.created_ms, updated_ms = excluded.updated_ms
              WHERE trade_orders.status IN ('failed', 'dropped')`),
      settle: q(`UPDATE trade_orders SET status = ?, order_id = ?, reason = ?, updated_ms = ?
                 WHERE market = ? AND interval = ? AND tx_hash = ?`),
      forget: q(`DELETE FROM trade_orders WHERE market = ? AND interval = ? AND tx_hash = ?`),
      recent: q(`SELECT * FROM trade_orders ORDER BY interval DESC LIMIT ?`),
    };
  }

  get(market: Address, interval: bigint): TradeOrder | undefined {
    const row = this.#q.get.get(market.toLowerCase(), interval) as Row | undefined;
    return row === undefined ? undefined : toOrder(row);
  }

  /**
   * Records a signed order transaction before it is broadcast (synchronous=FULL: durable when this
   * returns). Refused while another attempt for the interval is sent or placed.
   */
  recordSent(order: NewTradeOrder): void {
    const changes = this.#q.put.run(
      order.market.toLowerCase(),
      order.interval,
      order.side,
      order.owner.toLowerCase(),
      order.wh,
      order.pricePerKwh.toString(),
      order.nonce,
      order.txHash,
      order.rawTx,
      order.createdMs,
      order.createdMs,
    ).changes;
    if (Number(changes) !== 1) {
      throw new StoreError(`an order for interval ${order.interval} is already sent or placed`);
    }
  }

  /** Records what became of the attempt with `txHash`; false when that is no longer the attempt. */
  settle(
    attempt: Pick<TradeOrder, "market" | "interval" | "txHash">,
    outcome: { status: Exclude<TradeStatus, "sent">; orderId?: bigint; reason?: string },
    nowMs: number,
  ): boolean {
    const changes = this.#q.settle.run(
      outcome.status,
      outcome.orderId?.toString() ?? null,
      outcome.reason ?? null,
      nowMs,
      attempt.market.toLowerCase(),
      attempt.interval,
      attempt.txHash,
    ).changes;
    return Number(changes) === 1;
  }

  /**
   * Drops an attempt the chain does not know, e.g. an order recorded as placed on a chain that has
   * since been reset; false when that is no longer the attempt.
   */
  forget(attempt: Pick<TradeOrder, "market" | "interval" | "txHash">): boolean {
    const { changes } = this.#q.forget.run(attempt.market.toLowerCase(), attempt.interval, attempt.txHash);
    return Number(changes) === 1;
  }

  /** The latest intervals' attempts, newest first. */
  recent(limit: number): TradeOrder[] {
    return (this.#q.recent.all(limit) as Row[]).map(toOrder);
  }
}

type Row = Record<string, bigint | string | null>;

function toOrder(row: Row): TradeOrder {
  return {
    market: row.market as Address,
    interval: row.interval as bigint,
    side: row.side as TradeSide,
    owner: row.owner as Address,
    wh: row.wh as bigint,
    pricePerKwh: BigInt(row.price_per_kwh as string),
    nonce: Number(row.nonce),
    txHash: row.tx_hash as Hex,
    rawTx: row.raw_tx as Hex,
    status: row.status as TradeStatus,
    orderId: row.order_id === null ? null : BigInt(row.order_id as string),
    reason: row.reason as string | null,
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
  };
}
