import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

import type { Address } from "@gridmesh/contracts";

import { tempDir } from "../testing/tempDir.js";
import { ReadingStore } from "./readingStore.js";
import type { NewTradeOrder } from "./tradeOrders.js";

const METER = "0x00000000000000000000000000000000000000a1" as Address;
const MARKET = "0x00000000000000000000000000000000000000B2" as Address;
const attempt = (interval: bigint, tx: string, nonce = 0): NewTradeOrder => ({
  market: MARKET,
  interval,
  side: "offer",
  owner: "0x00000000000000000000000000000000000000c3",
  wh: 600n,
  pricePerKwh: 2n ** 90n,
  nonce,
  txHash: `0x${tx.repeat(64)}`,
  rawTx: "0x02f8",
  createdMs: 1000,
});

describe("TradeOrders", () => {
  let path: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    path = join(t.dir, "readings.db");
  });
  afterEach(() => cleanup());

  it("keeps one live attempt per market interval, across reopening", () => {
    let store = ReadingStore.open(path, METER);
    store.trades.recordSent(attempt(7n, "a"));
    assert.throws(() => store.trades.recordSent(attempt(7n, "b", 1)), /already sent or placed/);
    store.trades.recordSent(attempt(8n, "c", 1));
    store.close();

    store = ReadingStore.open(path, METER);
    const got = store.trades.get(MARKET, 7n);
    assert.deepEqual(got, {
      ...attempt(7n, "a"),
      market: MARKET.toLowerCase(),
      owner: "0x00000000000000000000000000000000000000c3",
      status: "sent",
      orderId: null,
      reason: null,
      updatedMs: 1000,
    });
    assert.equal(got?.pricePerKwh, 2n ** 90n, "uint96 prices survive");
    assert.equal(store.trades.settle(attempt(7n, "a"), { status: "placed", orderId: 5n }, 2000), true);
    assert.throws(() => store.trades.recordSent(attempt(7n, "b", 1)), /already sent or placed/);
    assert.deepEqual(
      store.trades.recent(10).map((t) => [t.interval, t.status]),
      [
        [8n, "sent"],
        [7n, "placed"],
      ],
    );
    store.close();
  });

  it("lets a new attempt replace one that can no longer become an order", () => {
    const store = ReadingStore.open(path, METER);
    store.trades.recordSent(attempt(7n, "a"));
    assert.equal(
      store.trades.settle(attempt(7n, "b"), { status: "dropped" }, 2000),
      false,
      "not that attempt",
    );
    store.trades.settle(attempt(7n, "a"), { status: "dropped", reason: "its nonce went elsewhere" }, 2000);
    store.trades.recordSent(attempt(7n, "b", 1));
    assert.deepEqual(
      [store.trades.get(MARKET, 7n)?.txHash, store.trades.get(MARKET, 7n)?.status],
      [attempt(7n, "b").txHash, "sent"],
    );
    store.trades.settle(attempt(7n, "b"), { status: "placed", orderId: 1n }, 3000);
    assert.equal(store.trades.forget(attempt(7n, "b")), true);
    assert.equal(store.trades.get(MARKET, 7n), undefined);
    store.close();
  });
});
