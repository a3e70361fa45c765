import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Wallet } from "ethers";
import type { z } from "zod";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  signedReadingSchema,
  signedReadingToJson,
  type Address,
  type MeterReading,
} from "@gridmesh/contracts";

import * as schemas from "../schemas.js";
import { accounts, clearings, devices, meters, orders, readings } from "./apiFixtures.js";
import type { SuiteContext } from "./apiSuite.js";
import { CHAIN_ID, DEPLOYMENT, INTERVAL_SECONDS, LEDGER, type ApiServer } from "./apiTestContext.js";
import {
  byId,
  clearingJson,
  depthOf,
  deviceJson,
  orderJson,
  readingJson,
  settlementJson,
  tradesOf,
} from "./expectedJson.js";

/** GETs `path` and checks the 200 body against the route's response schema before returning it. */
async function get<T extends z.ZodType>(api: ApiServer, path: string, schema: T): Promise<unknown> {
  const res = await api.call(path);
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  schema.parse(res.body);
  return res.body;
}

/** Follows nextCursor from the first page to the last; returns every item and the page count. */
async function walk(api: ApiServer, path: string, limit: number, key = "items") {
  const items: unknown[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const url = new URL(path, "http://x");
    url.searchParams.set("limit", String(limit));
    if (cursor !== null) url.searchParams.set("cursor", cursor);
    const res = await api.call(url.pathname + url.search);
    assert.equal(res.status, 200, res.text);
    const body = res.body as Record<string, unknown> & { nextCursor: string | null };
    const page = body[key] as unknown[];
    assert.ok(page.length <= limit);
    items.push(...page);
    cursor = body.nextCursor;
    pages++;
  } while (cursor !== null);
  return { items, pages };
}

const mixedCase = (address: string) => `0x${address.slice(2).toUpperCase()}`;

export function describeReadRoutes(ctx: () => SuiteContext): void {
  void describe("read routes", () => {
    void it("GET /v1/health names the engine and the schema version", async () => {
      const body = await get(ctx().api, "/v1/health", schemas.healthSchema);
      assert.deepEqual(body, { ok: true, engine: ctx().engine, schemaVersion: ctx().schemaVersion });
    });

    void it("GET /v1/deployment names the chain, the contracts (lower-case) and the market's timing", async () => {
      const body = await get(ctx().api, "/v1/deployment", schemas.deploymentSchema);
      assert.deepEqual(body, {
        chainId: Number(DEPLOYMENT.chainId),
        contracts: {
          energyMarket: DEPLOYMENT.contracts.energyMarket.toLowerCase(),
          deliveryLedger: DEPLOYMENT.contracts.deliveryLedger.toLowerCase(),
          meterRegistry: DEPLOYMENT.contracts.meterRegistry.toLowerCase(),
          forwardMarket: null,
          optionMarket: null,
        },
        market: { intervalSeconds: "900", gateClosureSeconds: "150", settlementDelaySeconds: "1800" },
      });
    });

    void it("GET /v1/intervals/{interval}/book answers the orders by id and both depth curves", async () => {
      const { api } = ctx();
      for (const t of [100n, 101n, 102n]) {
        assert.deepEqual(await get(api, `/v1/intervals/${t}/book`, schemas.bookSchema), {
          interval: t.toString(),
          orders: orders
            .filter((o) => o.interval === t)
            .sort(byId)
            .map(orderJson),
          nextCursor: null,
          depth: depthOf(orders, t),
        });
      }
      // Interval 102: two offers share a price; the bid past 2^100 heads the demand curve.
      const depth102 = depthOf(orders, 102n);
      assert.equal(depth102.offers.length, 1);
      assert.equal(depth102.bids[1]!.cumulativeWh, ((1n << 47n) + 101n).toString());
      assert.deepEqual(await get(api, "/v1/intervals/999/book", schemas.bookSchema), {
        interval: "999",
        orders: [],
        nextCursor: null,
        depth: { offers: [], bids: [] },
      });
    });

    void it("pages an interval's book and filters it by side", async () => {
      const { items, pages } = await walk(ctx().api, "/v1/intervals/100/book?side=bid", 2, "orders");
      const bids = orders.filter((o) => o.interval === 100n && o.side === "bid").sort(byId);
      assert.deepEqual(items, bids.map(orderJson));
      assert.equal(pages, 2);
    });

    void it("GET /v1/orders filters by owner (any case), interval, side and status", async () => {
      const { api } = ctx();
      const cases: [string, (o: (typeof orders)[number]) => boolean][] = [
        [`owner=${mixedCase(accounts.alice)}`, (o) => o.owner === accounts.alice],
        [
          "interval=100&side=bid&status=matched",
          (o) => o.interval === 100n && o.side === "bid" && o.status === "matched",
        ],
        [`owner=${accounts.carol}&interval=102`, (o) => o.owner === accounts.carol && o.interval === 102n],
        ["status=cancelled", (o) => o.status === "cancelled"],
        ["interval=5", () => false],
      ];
      for (const [query, wanted] of cases) {
        const body = await get(api, `/v1/orders?${query}`, schemas.orderPageSchema);
        assert.deepEqual(
          body,
          { items: orders.filter(wanted).sort(byId).map(orderJson), nextCursor: null },
          query,
        );
      }
    });

    void it("pages GET /v1/orders: every order once, in id order, past 2^64", async () => {
      const { items, pages } = await walk(ctx().api, "/v1/orders", 5);
      assert.deepEqual(items, [...orders].sort(byId).map(orderJson));
      assert.equal(pages, Math.ceil(orders.length / 5));
      const first = (await get(ctx().api, "/v1/orders", schemas.orderPageSchema)) as { items: unknown[] };
      assert.equal(first.items.length, orders.length, "default limit covers the fixtures");
    });

    void it("GET /v1/clearings lists clearings with batches and settlements, by interval range and status", async () => {
      const { api } = ctx();
      const summaries = (list: typeof clearings) => list.map((c) => clearingJson(c, false));
      const cases: [string, typeof clearings][] = [
        ["", clearings],
        ["?from=101&to=103", clearings.filter((c) => c.interval >= 101n)],
        ["?from=101&to=101", clearings.filter((c) => c.interval === 101n)],
        ["?to=100", clearings.filter((c) => c.interval === 100n)],
        ["?status=failed", clearings.filter((c) => c.status === "failed")],
      ];
      for (const [query, list] of cases) {
        const body = await get(api, `/v1/clearings${query}`, schemas.clearingPageSchema);
        assert.deepEqual(body, { items: summaries(list), nextCursor: null }, query);
      }
      const { items, pages } = await walk(api, "/v1/clearings", 1);
      assert.deepEqual(items, summaries(clearings));
      assert.equal(pages, clearings.length);
    });

    void it("GET /v1/clearings/{interval} answers one clearing with its fills, or 404", async () => {
      const { api } = ctx();
      for (const c of clearings) {
        assert.deepEqual(
          await get(api, `/v1/clearings/${c.interval}`, schemas.clearingSchema),
          clearingJson(c, true),
        );
      }
      const missing = await api.call("/v1/clearings/102");
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: "no clearing for interval 102" });
    });

    void it("GET /v1/trades joins fills with both orders and the batch's settlement", async () => {
      const { api } = ctx();
      const all = tradesOf(clearings, orders);
      const cases: [string, typeof all][] = [
        ["", all],
        [
          `?account=${accounts.dave}`,
          all.filter((t) => t.buyer.owner === accounts.dave || t.seller.owner === accounts.dave),
        ],
        [
          `?account=${mixedCase(accounts.alice)}`,
          all.filter((t) => t.seller.owner === accounts.alice || t.buyer.owner === accounts.alice),
        ],
        [
          `?account=${accounts.bob}&interval=100`,
          all.filter((t) => t.seller.owner === accounts.bob && t.interval === "100"),
        ],
        ["?interval=101", all.filter((t) => t.interval === "101")],
        ["?fromInterval=101", all.filter((t) => BigInt(t.interval) >= 101n)],
        ["?toInterval=100", all.filter((t) => BigInt(t.interval) <= 100n)],
        [
          `?account=${accounts.dave}&fromInterval=100&toInterval=100`,
          all.filter(
            (t) =>
              t.interval === "100" && (t.buyer.owner === accounts.dave || t.seller.owner === accounts.dave),
          ),
        ],
      ];
      for (const [query, list] of cases) {
        assert.ok(query === "" || list.length < all.length, `${query} filters something`);
        const body = await get(api, `/v1/trades${query}`, schemas.tradePageSchema);
        assert.deepEqual(body, { items: list, nextCursor: null }, query);
      }
      assert.equal(all.find((t) => t.interval === "101")?.settlementStatus, null);
      const { items, pages } = await walk(api, "/v1/trades", 3);
      assert.deepEqual(items, all);
      assert.equal(pages, 2);
    });

    void it("GET /v1/settlements lists batch settlements by interval and status", async () => {
      const { api } = ctx();
      const all = clearings
        .flatMap((c) => c.batches.map((_, b) => settlementJson(c, b)))
        .filter((s) => s !== null);
      assert.equal(all.length, 2);
      const cases: [string, typeof all][] = [
        ["", all],
        ["?interval=100", all],
        ["?interval=101", []],
        ["?status=failed", all.filter((s) => s.status === "failed")],
      ];
      for (const [query, list] of cases) {
        const body = await get(api, `/v1/settlements${query}`, schemas.settlementPageSchema);
        assert.deepEqual(body, { items: list, nextCursor: null }, query);
      }
      const { items, pages } = await walk(api, "/v1/settlements", 1);
      assert.deepEqual(items, all);
      assert.equal(pages, 2);
    });

    void it("GET /v1/readings answers stored readings in the shared wire form with their ledger status", async () => {
      const { api } = ctx();
      const sorted = [...readings].sort((a, b) =>
        a.meter === b.meter ? Number(a.interval - b.interval) : a.meter < b.meter ? -1 : 1,
      );
      const cases: [string, typeof readings][] = [
        ["", sorted],
        [
          `?meter=${mixedCase(meters.alice)}&fromInterval=101&toInterval=102`,
          sorted.filter((r) => r.meter === meters.alice && r.interval >= 101n && r.interval <= 102n),
        ],
        ["?fromInterval=100&toInterval=100", sorted.filter((r) => r.interval === 100n)],
        ["?ledgerStatus=rejected", sorted.filter((r) => r.ledgerStatus === "rejected")],
      ];
      for (const [query, list] of cases) {
        const body = (await get(api, `/v1/readings${query}`, schemas.storedReadingPageSchema)) as {
          items: unknown[];
        };
        assert.deepEqual(body, { items: list.map(readingJson), nextCursor: null }, query);
        // What the API serves is what a receiver of signed readings parses.
        for (const item of body.items)
          signedReadingSchema.parse({
            reading: (item as { reading: unknown }).reading,
            signature: (item as { signature: unknown }).signature,
          });
      }
      const { items, pages } = await walk(api, "/v1/readings", 2);
      assert.deepEqual(items, sorted.map(readingJson));
      assert.equal(pages, 3);
    });

    void it("GET /v1/devices and /v1/devices/{meter} answer meters and their identity status", async () => {
      const { api } = ctx();
      const sorted = [...devices].sort((a, b) => (a.meter < b.meter ? -1 : 1));
      const cases: [string, typeof devices][] = [
        ["", sorted],
        [`?owner=${accounts.alice}`, sorted.filter((d) => d.owner === accounts.alice)],
        ["?status=active", sorted.filter((d) => d.status === "active")],
        [`?owner=${accounts.dave}&status=active`, []],
      ];
      for (const [query, list] of cases) {
        const body = await get(api, `/v1/devices${query}`, schemas.devicePageSchema);
        assert.deepEqual(body, { items: list.map(deviceJson), nextCursor: null }, query);
      }
      const { items, pages } = await walk(api, "/v1/devices", 2);
      assert.deepEqual(items, sorted.map(deviceJson));
      assert.equal(pages, 3);
      assert.deepEqual(
        await get(api, `/v1/devices/${mixedCase(meters.carol)}`, schemas.deviceSchema),
        deviceJson(devices[3]!),
      );
      const missing = await api.call(`/v1/devices/0x${"9".repeat(40)}`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: `no device with meter 0x${"9".repeat(40)}` });
    });

    void it("POST /v1/readings stores a signed reading that GET /v1/readings then serves as it was signed", async () => {
      const { api, db } = ctx();
      const wallet = Wallet.createRandom();
      const reading: MeterReading = {
        meter: wallet.address as Address,
        interval: 2000n,
        sequence: 1n,
        importStartWh: 5n,
        importEndWh: 9n,
        exportStartWh: 0n,
        exportEndWh: 1n,
        timestamp: 2001n * BigInt(INTERVAL_SECONDS),
      };
      const signature = await wallet.signTypedData(
        deliveryLedgerDomain(CHAIN_ID, LEDGER),
        mutableTypes(meterReadingTypes),
        reading,
      );
      const wire = signedReadingToJson({ reading, signature: signature as `0x${string}` });
      const post = () =>
        api.call("/v1/readings", {
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8" },
          body: JSON.stringify({ readings: [wire] }),
        });
      const first = await post();
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(first.body, { results: [{ sequence: "1", status: "stored" }] });
      schemas.componentSchemas.ReadingReceipts.parse(first.body);
      assert.deepEqual((await post()).body, { results: [{ sequence: "1", status: "duplicate" }] });

      const meter = wallet.address.toLowerCase();
      const body = (await get(
        api,
        `/v1/readings?meter=${wallet.address}`,
        schemas.storedReadingPageSchema,
      )) as {
        items: Record<string, unknown>[];
      };
      assert.equal(body.items.length, 1);
      const { receivedAt, ...rest } = body.items[0]!;
      assert.ok(!Number.isNaN(Date.parse(receivedAt as string)));
      assert.deepEqual(rest, {
        reading: { ...wire.reading, meter },
        signature: signature.toLowerCase(),
        ledgerStatus: "pending",
        ledgerError: null,
        recordedTx: null,
      });
      await db.query("DELETE FROM readings WHERE meter = $1", [meter]);
    });
  });
}
