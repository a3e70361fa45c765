import {
  hash,
  type ClearingFixture,
  type DeviceFixture,
  type OrderFixture,
  type ReadingFixture,
} from "./apiFixtures.js";

/**
 * What the API must answer for each fixture, written from the API's contract (camelCase fields,
 * every uint a decimal string, ISO timestamps) rather than from its code.
 */

export const orderJson = (o: OrderFixture) => ({
  orderId: o.orderId.toString(),
  interval: o.interval.toString(),
  side: o.side,
  owner: o.owner,
  meter: o.meter,
  maxWh: o.maxWh.toString(),
  filledWh: o.filledWh.toString(),
  settledWh: o.settledWh.toString(),
  deliveredWh: o.deliveredWh.toString(),
  releasedAmount: o.releasedAmount === null ? null : o.releasedAmount.toString(),
  limitPrice: o.limitPrice.toString(),
  penaltyPerKwh: o.penaltyPerKwh === null ? null : o.penaltyPerKwh.toString(),
  deposit: o.deposit.toString(),
  status: o.status,
  placedBlock: o.placedBlock.toString(),
  placedTx: hash(0xbeef0000n + o.orderId),
  updatedAt: o.updatedAt.toISOString(),
});

export const byId = (a: OrderFixture, b: OrderFixture) =>
  a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0;

/** The depth curves of an interval, summed the slow way: one pass per price level. */
export function depthOf(orders: readonly OrderFixture[], interval: bigint) {
  const live = orders.filter((o) => o.interval === interval && o.status !== "cancelled");
  const curve = (side: "offer" | "bid") => {
    const mine = live.filter((o) => o.side === side);
    const prices = [...new Set(mine.map((o) => o.limitPrice))].sort((a, b) =>
      (side === "offer" ? a < b : a > b) ? -1 : 1,
    );
    return prices.map((price) => {
      const atPrice = mine.filter((o) => o.limitPrice === price);
      const orBetter = mine.filter((o) => (side === "offer" ? o.limitPrice <= price : o.limitPrice >= price));
      const sum = (list: OrderFixture[]) => list.reduce((total, o) => total + o.maxWh, 0n).toString();
      return { price: price.toString(), wh: sum(atPrice), cumulativeWh: sum(orBetter) };
    });
  };
  return { offers: curve("offer"), bids: curve("bid") };
}

export function settlementJson(c: ClearingFixture, batch: number) {
  const s = c.batches[batch]?.settlement;
  if (s === undefined) return null;
  return {
    interval: c.interval.toString(),
    batch,
    status: s.status,
    txHash: s.txHash,
    attempts: s.attempts,
    lastError: s.lastError,
    updatedAt: s.updatedAt.toISOString(),
  };
}

export function clearingJson(c: ClearingFixture, withFills: boolean) {
  return {
    interval: c.interval.toString(),
    price: c.price.toString(),
    volumeWh: c.volumeWh.toString(),
    batchCount: c.batches.length,
    status: c.status,
    lastError: c.lastError,
    finalizeTx: c.finalizeTx,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    batches: c.batches.map((b, batch) => ({
      batch,
      fillsHash: b.fillsHash,
      submitTx: b.submitTx,
      status: b.status,
      fillCount: b.fills.length,
      settlement: settlementJson(c, batch),
      ...(withFills
        ? {
            fills: b.fills.map((f, position) => ({
              position,
              offerId: f.offerId.toString(),
              bidId: f.bidId.toString(),
              wh: f.wh.toString(),
            })),
          }
        : {}),
    })),
  };
}

export function tradesOf(clearings: readonly ClearingFixture[], orders: readonly OrderFixture[]) {
  const party = (id: bigint) => {
    const o = orders.find((x) => x.orderId === id);
    return { orderId: id.toString(), owner: o?.owner ?? null, meter: o?.meter ?? null };
  };
  return clearings.flatMap((c) =>
    c.batches.flatMap((b, batch) =>
      b.fills.map((f, position) => ({
        interval: c.interval.toString(),
        batch,
        position,
        price: c.price.toString(),
        wh: f.wh.toString(),
        seller: party(f.offerId),
        buyer: party(f.bidId),
        batchStatus: b.status,
        settlementStatus: b.settlement?.status ?? null,
        settlementTx: b.settlement?.txHash ?? null,
      })),
    ),
  );
}

export const readingJson = (r: ReadingFixture) => ({
  reading: {
    meter: r.meter,
    interval: r.interval.toString(),
    sequence: r.sequence.toString(),
    importStartWh: r.importStartWh.toString(),
    importEndWh: r.importEndWh.toString(),
    exportStartWh: r.exportStartWh.toString(),
    exportEndWh: r.exportEndWh.toString(),
    timestamp: r.timestamp.toString(),
  },
  signature: r.signature,
  ledgerStatus: r.ledgerStatus,
  ledgerError: r.ledgerError,
  recordedTx: r.recordedTx,
  receivedAt: r.receivedAt.toISOString(),
});

export const deviceJson = (d: DeviceFixture) => ({
  meter: d.meter,
  owner: d.owner,
  deviceId: d.deviceId,
  status: d.status,
  updatedAt: d.updatedAt.toISOString(),
});
