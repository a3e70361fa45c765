import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

import type { Address, Clock } from "@gridmesh/contracts";
import { expect } from "chai";
import { encryptKeystoreJson, type HDNodeWallet, type Wallet } from "ethers";
import { network } from "hardhat";
import { pino } from "pino";

import { parseAgentConfig } from "../../meter-agent/src/agent/agentConfig.js";
import { MeterAgent } from "../../meter-agent/src/agent/meterAgent.js";
import { ReadingSigner } from "../../meter-agent/src/signing/readingSigner.js";
import { ReadingStore } from "../../meter-agent/src/store/readingStore.js";
import { AutoTrader, type TradeOutcome } from "../../meter-agent/src/trading/autoTrader.js";
import { INTERVAL_SECONDS, PENALTY_PER_KWH, deployGridMesh, usd } from "../helpers/gridmesh.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
type Connection = typeof connection;
const silent = pino({ level: "silent" });
const FLOOR = 120_000n;
const CEILING = 200_000n;

/**
 * The meter agent's automatic trader against the real EnergyMarket: the owner's rules are its
 * delegation to the meter's address, the agent forecasts from its own readings and places orders as
 * the meter's own transactions, and never two for one interval, whatever happens in between.
 */
describe("meter agent automatic trading → EnergyMarket", function () {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "gridmesh-auto-trader-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** alice's active meter with gas, alice funded and the market approved; the agent's clock is the chain's. */
  async function fixture({ ethers, networkHelpers }: Connection = connection) {
    const gm = await deployGridMesh(ethers);
    const meter = (await gm.activeMeter(gm.alice)).connect(ethers.provider);
    await networkHelpers.setBalance(meter.address, 10n ** 18n);
    await gm.fund(gm.alice, usd(100n));
    const market = (await gm.market.getAddress()) as Address;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const ledger = (await gm.ledger.getAddress()) as Address;
    // The agent's clock stands still while the chain's moves on with each transaction: start just
    // after an interval begins, so the set-up's seconds never carry the chain past the target
    // interval's gate closure (10 s before its start) between the trader's checks and its send.
    const latest = BigInt(await networkHelpers.time.latest());
    await networkHelpers.time.increaseTo((latest / INTERVAL_SECONDS + 1n) * INTERVAL_SECONDS + 1n);
    let nowMs = (await networkHelpers.time.latest()) * 1000;
    const clock: Clock = { now: () => nowMs, delayUntil: (at) => Math.max(0, at - nowMs) };
    const sync = async () => void (nowMs = (await networkHelpers.time.latest()) * 1000);
    const storePath = join(dir, "readings.db");

    /**
     * The agent's store holding readings of the `nets.length` intervals before `atMs` (the chain's
     * time by default), with these net exports.
     */
    async function storeWith(nets: number[], atMs?: number): Promise<ReadingStore> {
      await sync();
      const store = ReadingStore.open(storePath, meter.address as Address);
      const signer = new ReadingSigner(meter, meter.address as Address, { chainId, ledger });
      const current = BigInt(Math.floor((atMs ?? nowMs) / 1000)) / INTERVAL_SECONDS;
      let [imported, exported] = [10_000n, 5_000n];
      for (const [i, net] of nets.entries()) {
        const interval = current - BigInt(nets.length - i);
        const [imp, exp] = net >= 0 ? [50n, 50n + BigInt(net)] : [50n - BigInt(net), 50n];
        const signed = await signer.sign({
          meter: meter.address as Address,
          interval,
          sequence: BigInt(i + 1),
          importStartWh: imported,
          importEndWh: imported + imp,
          exportStartWh: exported,
          exportEndWh: exported + exp,
          timestamp: (interval + 1n) * INTERVAL_SECONDS,
        });
        [imported, exported] = [imported + imp, exported + exp];
        store.append(signed, { interval: interval + 1n, importWh: imported, exportWh: exported, atMs: 0 }, 0);
      }
      return store;
    }
    const trader = (store: ReadingStore, options: { timeoutMs?: number; log?: pino.Logger } = {}) =>
      new AutoTrader({
        store,
        wallet: meter,
        market,
        owner: gm.alice.address as Address,
        clock,
        readingSeconds: Number(INTERVAL_SECONDS),
        log: options.log ?? silent,
        timeoutMs: options.timeoutMs ?? 10_000,
        retryMs: 50,
      });
    async function authorize(maxWh: bigint, ceiling = CEILING) {
      const expiry = BigInt(await networkHelpers.time.latest()) + 3_600n;
      await gm.market.connect(gm.alice).authorizeDelegate(meter.address, maxWh, FLOOR, ceiling, expiry);
      return expiry;
    }
    const orderCount = async () => (await gm.market.nextOrderId()) - 1n;
    return { gm, meter, market, clock, sync, storePath, storeWith, trader, authorize, orderCount };
  }

  const placed = (o: TradeOutcome) => {
    if (o.kind !== "placed") throw new Error(`expected an order, got ${JSON.stringify(o, bigints)}`);
    return o;
  };

  it("offers a surplus at the owner's floor, clipped to its volume limit, paid from the owner's funds", async function () {
    const f = await fixture();
    await f.authorize(1000n);
    const before = await f.gm.token.balanceOf(f.gm.alice.address);
    const store = await f.storeWith([1400, 1600, 1500, 1500]);

    const o = placed(await f.trader(store).runOnce());
    expect([o.side, o.wh, o.pricePerKwh, o.clippedFromWh]).to.deep.equal(["offer", 1000n, FLOOR, 1500n]);
    const order = await f.gm.market.getOrder(o.orderId);
    expect([order.owner, order.meter, order.interval, order.maxWh, order.limitPrice]).to.deep.equal([
      f.gm.alice.address,
      f.meter.address,
      o.interval,
      1000n,
      FLOOR,
    ]);
    // Within the limits the contract keeps: the whole volume of the interval used, and no more.
    expect(await f.gm.market.delegatedWh(f.gm.alice.address, f.meter.address, o.interval)).to.equal(1000n);
    const collateral = (1000n * PENALTY_PER_KWH + 999n) / 1000n;
    expect(await f.gm.token.balanceOf(f.gm.alice.address)).to.equal(before - collateral);
    expect(await f.gm.token.balanceOf(f.meter.address)).to.equal(0n);
    expect(store.trades.get(f.market, o.interval)).to.include({ status: "placed", orderId: o.orderId });
    store.close();
  });

  it("bids for a deficit at the owner's ceiling", async function () {
    const f = await fixture();
    await f.authorize(1000n);
    const store = await f.storeWith([-300, -500]);
    const o = placed(await f.trader(store).runOnce());
    expect([o.side, o.wh, o.pricePerKwh, o.clippedFromWh]).to.deep.equal(["bid", 400n, CEILING, undefined]);
    expect((await f.gm.market.getOrder(o.orderId)).side).to.equal(1n);
    store.close();
  });

  it("places nothing without a delegation, over its limits, unpaid for or on a paused market, and says why", async function () {
    const f = await fixture();
    const store = await f.storeWith([800, 800]);
    const run = async () => {
      const o = await f.trader(store).runOnce();
      if (o.kind !== "skipped") throw new Error(`expected no order, got ${JSON.stringify(o, bigints)}`);
      return [o.reason, o.message];
    };
    expect(await run()).to.deep.equal([
      "no-delegation",
      `${f.gm.alice.address} has not authorised this meter to trade for it`,
    ]);

    await f.authorize(5n);
    const [reason, message] = await run();
    expect(reason).to.equal("volume-limit");
    expect(message).to.match(/the delegation leaves 5 Wh for interval \d+, under the 10 Wh minimum order/);

    // 800 Wh offered at the 0.05 penalty: 40,000 of collateral.
    await f.authorize(1000n);
    await f.gm.token.connect(f.gm.alice).approve(f.market, 39_999n);
    expect((await run())[0]).to.equal("insufficient-allowance");
    await f.gm.token.connect(f.gm.alice).approve(f.market, usd(100n));
    await f.gm.market.connect(f.gm.admin).pause();
    expect(await run()).to.deep.equal(["market-paused", "the market is paused"]);
    await f.gm.market.connect(f.gm.admin).unpause();

    await networkHelpers.time.increase(3_601);
    await f.sync();
    expect((await run())[0]).to.equal("delegation-expired");
    expect(await f.orderCount()).to.equal(0n);
    expect(await ethers.provider.getTransactionCount(f.meter.address)).to.equal(0, "not a transaction sent");
    store.close();
  });

  it("places one order per interval across restarts, even with its store lost", async function () {
    const f = await fixture();
    await f.authorize(1000n);
    let store = await f.storeWith([600, 600, 600]);
    const first = placed(await f.trader(store).runOnce());
    expect(await f.trader(store).runOnce()).to.deep.include({ kind: "skipped", reason: "already-placed" });

    // A restarted agent: the same store, opened again.
    store.close();
    store = ReadingStore.open(f.storePath, f.meter.address as Address);
    expect(await f.trader(store).runOnce()).to.deep.include({ kind: "skipped", reason: "already-placed" });
    // A store lost altogether: the chain still says an order is there.
    store.close();
    for (const suffix of ["", "-wal", "-shm"]) await rm(f.storePath + suffix, { force: true });
    store = await f.storeWith([600, 600, 600]);
    const again = await f.trader(store).runOnce();
    expect(again).to.deep.include({ kind: "skipped", reason: "already-placed", interval: first.interval });
    expect(await f.orderCount()).to.equal(1n);

    // The next interval gets its own order.
    await networkHelpers.time.increase(Number(INTERVAL_SECONDS));
    await f.sync();
    const next = placed(await f.trader(store).runOnce());
    expect(next.interval).to.equal(first.interval + 1n);
    expect(await f.orderCount()).to.equal(2n);
    store.close();
  });

  it("after a crash with its order unmined, sends that same transaction again, never a second order", async function () {
    const f = await fixture();
    await f.authorize(1000n);
    const store = await f.storeWith([700, 700]);
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      const out = await f.trader(store, { timeoutMs: 200 }).runOnce();
      expect(out.kind).to.equal("waiting");
      const { txHash } = out as Extract<TradeOutcome, { kind: "waiting" }>;
      // Restarted while the transaction is pending: it waits for that one.
      expect(await f.trader(store, { timeoutMs: 200 }).runOnce()).to.deep.include({
        kind: "waiting",
        txHash,
      });
      // The node forgets it (a restart of the node, an eviction): the same signed transaction goes again.
      await ethers.provider.send("hardhat_dropTransaction", [txHash]);
      await ethers.provider.send("evm_setAutomine", [true]);
      const o = placed(await f.trader(store).runOnce());
      expect(o.txHash).to.equal(txHash);
      expect(await f.orderCount()).to.equal(1n);
      expect(await ethers.provider.getTransactionCount(f.meter.address)).to.equal(1);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    store.close();
  });

  it("runs in the agent from its configuration, once per interval, and logs why it does not trade", async function () {
    // A chain of its own, on the wall clock the agent runs on.
    const own = await network.create();
    const f = await fixture(own);
    const rpc = await jsonRpcBridge(own);
    const passphrase = "auto trader test passphrase";
    const meterKey = f.meter as unknown as Wallet | HDNodeWallet;
    await writeFile(
      join(dir, "key.json"),
      await encryptKeystoreJson({ address: meterKey.address, privateKey: meterKey.privateKey }, passphrase, {
        scrypt: { N: 1024 },
      }),
    );
    process.env.GRIDMESH_TRADER_TEST_PASSPHRASE = passphrase;
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const config = parseAgentConfig(
      {
        dataDir: ".",
        key: { keystore: "key.json", passphraseEnv: "GRIDMESH_TRADER_TEST_PASSPHRASE" },
        chain: { chainId: Number(f.gm.chainId), ledger: await f.gm.ledger.getAddress() },
        intervalSeconds: Number(INTERVAL_SECONDS),
        source: { kind: "simulated", originMs: Date.now() },
        uplinks: [{ kind: "controller" }],
        trading: { market: f.market, rpcUrl: rpc.url, owner: f.gm.alice.address },
        log: { level: "info" },
      },
      dir,
    );
    try {
      // Without a delegation it says so, as a warning the owner can act on.
      let agent = await MeterAgent.start(config, log);
      const outcome = async () => {
        while (agent.trader?.lastOutcome === undefined) await new Promise((r) => setTimeout(r, 20));
        return agent.trader.lastOutcome;
      };
      expect(await outcome()).to.deep.include({ kind: "skipped", reason: "no-delegation" });
      await agent.stop();
      const warning = lines.find((l) => l.reason === "no-delegation");
      expect(warning).to.include({ level: 40, part: "trader" });
      expect(warning?.msg).to.match(/^not trading for interval \d+: 0x[0-9a-fA-F]{40} has not authorised/);

      // With one, and readings of a surplus, it offers.
      await f.authorize(1000n);
      (await f.storeWith([300, 300], Date.now())).close();
      agent = await MeterAgent.start(config, log);
      const o = placed(await outcome());
      expect([o.side, o.wh]).to.deep.equal(["offer", 300n]);
      await agent.stop();
      const said = lines.find((l) => l.msg === "offer placed for the owner");
      expect(said).to.include({ level: 30, orderId: o.orderId.toString(), wh: "300" });
    } finally {
      await rpc.close();
    }
  });
});

const bigints = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);

/** The in-process Hardhat network over HTTP JSON-RPC, as the agent reaches a node. */
async function jsonRpcBridge(connection: Connection): Promise<{ url: string; close: () => Promise<void> }> {
  type Call = { id: unknown; method: string; params?: unknown[] };
  const answer = async ({ id, method, params }: Call) => {
    try {
      const result: unknown = await connection.provider.request({ method, params });
      return { jsonrpc: "2.0", id, result };
    } catch (e) {
      const error = e as { code?: number; message: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id,
        error: { code: error.code ?? -32000, message: error.message, data: error.data },
      };
    }
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Call | Call[];
      void (Array.isArray(body) ? Promise.all(body.map(answer)) : answer(body)).then((out) =>
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out)),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
