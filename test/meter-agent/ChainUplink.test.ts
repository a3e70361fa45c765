import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Address } from "@gridmesh/contracts";
import { expect } from "chai";
import { network } from "hardhat";
import { pino } from "pino";

import { ChainUplink } from "../../meter-agent/src/forward/chainUplink.js";
import { Forwarder } from "../../meter-agent/src/forward/forwarder.js";
import { UplinkError } from "../../meter-agent/src/forward/uplink.js";
import { ReadingRecorder } from "../../meter-agent/src/readings/readingRecorder.js";
import { ReadingSigner } from "../../meter-agent/src/signing/readingSigner.js";
import { ReadingStore } from "../../meter-agent/src/store/readingStore.js";
import { SETTLEMENT_DELAY_SECONDS, deployGridMesh, intervalClock } from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();
const silent = pino({ level: "silent" });

/**
 * The meter agent's chain uplink against the real DeliveryLedger: readings made by the agent's
 * recorder and store, sent as the meter's own transactions.
 */
describe("meter agent → DeliveryLedger", function () {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "gridmesh-chain-uplink-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function fixture() {
    const gm = await deployGridMesh(ethers);
    const clock = intervalClock(networkHelpers);
    const meter = (await gm.activeMeter(gm.alice)).connect(ethers.provider);
    await networkHelpers.setBalance(meter.address, 10n ** 18n);
    const ledger = (await gm.ledger.getAddress()) as Address;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const t0 = await clock.openInterval(2n);

    /** A store holding the agent's readings of `count` intervals from `first`, 10 Wh each. */
    async function storeWith(name: string, first: bigint, count: number) {
      const store = ReadingStore.open(join(dir, `${name}.db`), meter.address as Address);
      const signer = new ReadingSigner(meter, meter.address as Address, { chainId, ledger });
      const recorder = new ReadingRecorder({ store, signer, intervalSeconds: 60, toleranceMs: 1000 });
      for (let i = 0; i <= count; i++) {
        const wh = 1000n + 10n * BigInt(i);
        await recorder.record({
          importWh: wh,
          exportWh: 500n,
          atMs: Number(clock.start(first + BigInt(i))) * 1000,
        });
      }
      return store;
    }
    const uplink = new ChainUplink({ wallet: meter, ledger, batchSize: 50 });
    return { gm, clock, meter, t0, storeWith, uplink };
  }

  it("records the stored readings in one transaction of the meter's, then has nothing pending", async function () {
    const { gm, clock, meter, t0, storeWith, uplink } = await fixture();
    // Readings are due within SETTLEMENT_DELAY_SECONDS (two intervals) of their interval's end.
    const store = await storeWith("a", t0, 3);
    await clock.to(clock.end(t0 + 1n) + 5n);
    const forwarder = new Forwarder({ store, uplink, log: silent });

    expect(await forwarder.sendOnce()).to.equal(2, "the third interval has not ended");
    expect(await ethers.provider.getTransactionCount(meter.address)).to.equal(1);
    const [lastInterval, lastSequence, importWh] = await gm.ledger.meterState(meter.address);
    expect([lastInterval, lastSequence, importWh]).to.deep.equal([t0 + 1n, 2n, 1020n]);
    const [recorded, , importedWh] = await gm.ledger.delivery(meter.address, t0 + 1n);
    expect([recorded, importedWh]).to.deep.equal([true, 10n]);
    expect(store.counts()).to.deep.equal({ total: 3, pending: 1, delivered: 2, expired: 0 });
    expect(store.get(1n)?.deliveredVia).to.equal("chain");
    store.close();
  });

  it("treats readings already on-chain as delivered without sending anything (a crash after the transaction)", async function () {
    const { clock, meter, t0, storeWith, uplink } = await fixture();
    const sent = await storeWith("sent", t0, 2);
    await clock.to(clock.end(t0 + 1n) + 1n);
    await new Forwarder({ store: sent, uplink, log: silent }).sendOnce();
    // The same readings, still pending in a store that never heard back.
    const again = await storeWith("again", t0, 2);
    const forwarder = new Forwarder({ store: again, uplink, log: silent });
    expect(await forwarder.sendOnce()).to.equal(2);
    expect(forwarder.stats).to.include({ duplicates: 2, delivered: 0, rejected: 0 });
    expect(await ethers.provider.getTransactionCount(meter.address)).to.equal(1);
    expect(again.counts().pending).to.equal(0);
    sent.close();
    again.close();
  });

  it("rejects a reading past its deadline and still records the ones after it", async function () {
    const { gm, clock, meter, t0, storeWith, uplink } = await fixture();
    const store = await storeWith("late", t0, 2);
    // t0's deadline has passed, t0+1's has not.
    await clock.to(clock.end(t0) + SETTLEMENT_DELAY_SECONDS + 1n);
    const forwarder = new Forwarder({ store, uplink, log: silent });
    expect(await forwarder.sendOnce()).to.equal(1);
    expect(store.get(1n)?.expiredReason).to.match(/^DeliveryLedgerReadingTooLate/);
    expect(await forwarder.sendOnce()).to.equal(1);
    expect(store.counts()).to.deep.equal({ total: 2, pending: 0, delivered: 1, expired: 1 });
    expect((await gm.ledger.delivery(meter.address, t0 + 1n))[0]).to.equal(true);
    expect((await gm.ledger.delivery(meter.address, t0))[0]).to.equal(false);
    store.close();
  });

  it("waits, keeping the reading, while its interval has not ended on-chain", async function () {
    const { clock, t0, storeWith, uplink } = await fixture();
    const store = await storeWith("early", t0, 1);
    await clock.to(clock.end(t0) - 5n);
    const forwarder = new Forwarder({ store, uplink, log: silent });
    const error = await forwarder.sendOnce().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UplinkError);
    expect((error as UplinkError).retryable).to.equal(true);
    expect((error as Error).message).to.match(/wait: DeliveryLedgerIntervalNotEnded/);
    expect(store.counts().pending).to.equal(1);
    store.close();
  });
});
