import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

import { Wallet } from "ethers";
import { pino } from "pino";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  type Address,
  type Hex,
} from "@gridmesh/contracts";

import { ReadingSigner } from "../signing/readingSigner.js";
import { ReadingStore } from "../store/readingStore.js";
import { ReadingReceiver } from "../testing/readingReceiver.js";
import { tempDir } from "../testing/tempDir.js";
import { Forwarder } from "./forwarder.js";
import { HttpUplink } from "./httpUplink.js";
import { UplinkError } from "./uplink.js";

const domain = { chainId: 31337n, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };
const log = pino({ level: "silent" });

describe("Forwarder over the HTTP uplink", () => {
  const wallet = Wallet.createRandom();
  const meter = wallet.address as Address;
  let store: ReadingStore;
  let cleanup: () => Promise<void>;
  let receiver: ReadingReceiver;

  /** Stores `n` signed, continuous readings; `forged` ones are signed by another key. */
  async function fill(n: number, forged: number[] = []) {
    const good = new ReadingSigner(wallet, meter, domain);
    const other = Wallet.createRandom();
    for (let s = 1; s <= n; s++) {
      const reading = {
        meter,
        interval: BigInt(100 + s),
        sequence: BigInt(s),
        importStartWh: BigInt(10 * s),
        importEndWh: BigInt(10 * s + 10),
        exportStartWh: 0n,
        exportEndWh: 0n,
        timestamp: BigInt(60 * (101 + s)),
      };
      const signed = forged.includes(s)
        ? { reading, signature: (await other.signTypedData(...signingArgs(reading))) as Hex }
        : await good.sign(reading);
      store.append(
        signed,
        { interval: BigInt(101 + s), importWh: BigInt(10 * s + 10), exportWh: 0n, atMs: 0 },
        0,
      );
    }
  }
  const signingArgs = (reading: object) =>
    [deliveryLedgerDomain(domain.chainId, domain.ledger), mutableTypes(meterReadingTypes), reading] as const;

  beforeEach(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    store = ReadingStore.open(join(t.dir, "r.db"), meter);
    receiver = new ReadingReceiver(domain);
    await receiver.start();
  });
  afterEach(async () => {
    store.close();
    await receiver.cut();
    await cleanup();
  });

  it("sends the newest readings first and marks them delivered only once the receiver has them", async () => {
    await fill(5);
    const forwarder = new Forwarder({
      store,
      uplink: new HttpUplink({ url: receiver.url, batchSize: 2 }),
      log,
    });
    assert.equal(await forwarder.sendOnce(), 2);
    assert.deepEqual(
      [...receiver.stored.keys()].map((k) => k.split(":")[1]),
      ["5", "4"],
    );
    assert.deepEqual(
      store.pending(10).map((r) => r.reading.sequence),
      [3n, 2n, 1n],
    );
    while ((await forwarder.sendOnce()) > 0);
    assert.equal(receiver.stored.size, 5);
    assert.deepEqual(store.counts(), { total: 5, pending: 0, delivered: 5, expired: 0 });
  });

  it("keeps everything pending while the receiver is unreachable", async () => {
    await fill(3);
    await receiver.cut();
    const forwarder = new Forwarder({
      store,
      uplink: new HttpUplink({ url: receiver.url, timeoutMs: 1000 }),
      log,
    });
    await assert.rejects(
      forwarder.sendOnce(),
      (e: unknown) => e instanceof UplinkError && e.retryable && /unreachable/.test(e.message),
    );
    assert.equal(store.counts().pending, 3);
  });

  it("gives up only on a reading the receiver rejects for good, such as a forged one", async () => {
    await fill(3, [2]);
    const forwarder = new Forwarder({ store, uplink: new HttpUplink({ url: receiver.url }), log });
    assert.equal(await forwarder.sendOnce(), 3);
    assert.deepEqual(store.counts(), { total: 3, pending: 0, delivered: 2, expired: 1 });
    assert.equal(store.get(2n)?.expiredReason, "signature is not the meter's");
  });

  it("refuses receipts that do not match the batch, and marks nothing", async () => {
    await fill(2);
    const liar = createServer((_req, res) =>
      res.end(JSON.stringify({ results: [{ sequence: "9", status: "stored" }] })),
    );
    await new Promise<void>((r) => liar.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/v1/readings`;
    try {
      const forwarder = new Forwarder({ store, uplink: new HttpUplink({ url }), log });
      await assert.rejects(forwarder.sendOnce(), /sent 1 receipts for 2 readings/);
      assert.equal(store.counts().pending, 2);
    } finally {
      liar.close();
    }
  });
});
