import { z } from "zod";

import { cursorCodec, decimalKey, pageOf } from "../cursor.js";
import { defineRoute } from "../route.js";
import { addressParam, DEFAULT_LIMIT, limitParam, orderSide, orderStatus, uint64Param } from "../schemas.js";
import { iso, SqlConditions } from "../sqlConditions.js";

type OrderRow = {
  order_id: string;
  interval_index: string;
  side: string;
  owner: string;
  meter: string;
  max_wh: string;
  filled_wh: string;
  settled_wh: string;
  delivered_wh: string;
  released_amount: string | null;
  limit_price: string;
  penalty_per_kwh: string | null;
  deposit: string;
  status: string;
  placed_block: string;
  placed_tx: string;
  updated_at: Date;
};

const ORDER_COLUMNS = `order_id::text, interval_index::text, side, owner, meter, max_wh::text, filled_wh::text,
  settled_wh::text, delivered_wh::text, released_amount::text, limit_price::text, penalty_per_kwh::text, deposit::text, status, placed_block::text, placed_tx, updated_at`;

function orderJson(r: OrderRow) {
  return {
    orderId: r.order_id,
    interval: r.interval_index,
    side: r.side,
    owner: r.owner,
    meter: r.meter,
    maxWh: r.max_wh,
    filledWh: r.filled_wh,
    settledWh: r.settled_wh,
    deliveredWh: r.delivered_wh,
    releasedAmount: r.released_amount,
    limitPrice: r.limit_price,
    penaltyPerKwh: r.penalty_per_kwh,
    deposit: r.deposit,
    status: r.status,
    placedBlock: r.placed_block,
    placedTx: r.placed_tx,
    updatedAt: iso(r.updated_at),
  };
}

// Orders page by id, the order the chain assigned them in.
const bookCursor = cursorCodec("book", z.tuple([decimalKey]));
const ordersCursor = cursorCodec("orders", z.tuple([decimalKey]));

export const bookRoute = defineRoute({
  method: "GET",
  path: "/v1/intervals/{interval}/book",
  tag: "market",
  summary: "An interval's order book: its orders (paginated, by id) and the depth of each side",
  params: z.strictObject({ interval: uint64Param }),
  query: z.strictObject({ side: orderSide.optional(), limit: limitParam, cursor: bookCursor.param }),
  response: "Book",
  async handle({ params, query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    c.and(`interval_index = ${c.param(params.interval)}`);
    if (query.side !== undefined) c.and(`side = ${c.param(query.side)}`);
    if (query.cursor !== undefined) c.and(`order_id > ${c.param(query.cursor[0])}::numeric`);
    const orders = await deps.db.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders ${c.where()} ORDER BY orders.order_id LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(orders.rows, limit, bookCursor, (r) => [r.order_id] as [string]);
    // Cumulative volume along each curve: offers cheapest first, bids dearest first, as the
    // clearing walks them. Cancelled orders never reached the clearing.
    const depth = await deps.db.query<{ side: string; price: string; wh: string; cumulative_wh: string }>(
      `SELECT side, limit_price::text AS price, sum(max_wh)::text AS wh,
              sum(sum(max_wh)) OVER (PARTITION BY side ORDER BY CASE side WHEN 'offer' THEN limit_price
                                                                          ELSE -limit_price END)::text AS cumulative_wh
       FROM orders WHERE interval_index = $1 AND status <> 'cancelled'
       GROUP BY side, limit_price
       ORDER BY side, CASE side WHEN 'offer' THEN limit_price ELSE -limit_price END`,
      [params.interval],
    );
    const levels = (side: string) =>
      depth.rows
        .filter((r) => r.side === side)
        .map((r) => ({ price: r.price, wh: r.wh, cumulativeWh: r.cumulative_wh }));
    return {
      interval: params.interval.toString(),
      orders: page.rows.map(orderJson),
      nextCursor: page.nextCursor,
      depth: { offers: levels("offer"), bids: levels("bid") },
    };
  },
});

export const ordersRoute = defineRoute({
  method: "GET",
  path: "/v1/orders",
  tag: "market",
  summary: "Orders, by id, filtered by owner, interval, side and status",
  query: z.strictObject({
    owner: addressParam.optional(),
    interval: uint64Param.optional(),
    side: orderSide.optional(),
    status: orderStatus.optional(),
    limit: limitParam,
    cursor: ordersCursor.param,
  }),
  response: "OrderPage",
  async handle({ query, deps }) {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const c = new SqlConditions();
    if (query.owner !== undefined) c.and(`owner = ${c.param(query.owner)}`);
    if (query.interval !== undefined) c.and(`interval_index = ${c.param(query.interval)}`);
    if (query.side !== undefined) c.and(`side = ${c.param(query.side)}`);
    if (query.status !== undefined) c.and(`status = ${c.param(query.status)}`);
    if (query.cursor !== undefined) c.and(`order_id > ${c.param(query.cursor[0])}::numeric`);
    const { rows } = await deps.db.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders ${c.where()} ORDER BY orders.order_id LIMIT ${c.param(limit + 1)}`,
      c.params,
    );
    const page = pageOf(rows, limit, ordersCursor, (r) => [r.order_id] as [string]);
    return { items: page.rows.map(orderJson), nextCursor: page.nextCursor };
  },
});
