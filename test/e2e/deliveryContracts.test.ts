/**
 * Forwards, options and automatic trading in real headless Chromium against the whole local system
 * (its own, with two homes that trade by hand): home 1 proposes a forward and writes an option
 * with the margin and collateral shown before signing; home 2 accepts the forward, buys the option
 * and exercises it; both see the positions, then their settlement against the seller meter's
 * readings (checked against the DeliveryLedger). Home 1 then lets its meter agent trade for it
 * under a delegation set on the market page; the agent places an order within its limits, and
 * stopping the rule removes the delegation. Screenshots go to test-results/screenshots/.
 */
import { expect } from "chai";
import type { Locator, Page } from "playwright-core";
import { createPublicClient, http, type Address } from "viem";

import {
  deliveryLedgerAbi,
  energyMarketAbi,
  forwardMarketAbi,
  lockFor,
  optionMarketAbi,
  testDollarAbi,
  valueOf,
} from "@gridmesh/contracts";

import { formatEnergy, formatMoney } from "../../web/src/lib/units.js";
import type { LocalHome, LocalSystem } from "../../scripts/local/startLocalSystem.js";
import { startWebSession, until, type WebSession } from "./support/webSession.js";

/** Energy per interval of both contracts (Wh), and their prices (TestDollar base units per kWh). */
const WH = 200n;
const FORWARD_PRICE = 140_000n;
const STRIKE = 150_000n;
const PREMIUM = 50_000n;
const ACTIVE = 2;
const CLOSED = 3;

interface OrderJson {
  orderId: string;
  interval: string;
  side: "offer" | "bid";
  owner: string;
  meter: string;
  maxWh: string;
  limitPrice: string;
  placedTx: `0x${string}`;
}

interface ScheduleView {
  seller: Address;
  buyer: Address;
  status: number;
  firstInterval: bigint;
  lastInterval: bigint;
  sellerMeter: Address;
  whPerInterval: number;
  penaltyPerKwh: bigint;
  sellerMargin: bigint;
  buyerMargin: bigint;
  settledIntervals: number;
}

describe("forwards, options and automatic trading end to end (headless Chromium)", function () {
  this.timeout(12 * 60_000);
  let system: LocalSystem;
  let web: WebSession;
  let client: ReturnType<typeof createPublicClient>;
  let home1: LocalHome;
  let home2: LocalHome;
  let money: (units: bigint) => string;
  let page1: Page;
  let page2: Page;
  let forwardId: bigint;
  let optionId: bigint;

  const forwardMarket = () => system.contracts.forwardMarket;
  const optionMarket = () => system.contracts.optionMarket;
  const scheduleOf = async (
    market: Address,
    abi: typeof forwardMarketAbi | typeof optionMarketAbi,
    id: bigint,
  ) =>
    (await client.readContract({
      address: market,
      abi,
      functionName: "getSchedule",
      args: [id],
    })) as ScheduleView;
  const forward = (id: bigint) => scheduleOf(forwardMarket(), forwardMarketAbi, id);
  const option = (id: bigint) => scheduleOf(optionMarket(), optionMarketAbi, id);
  const txDone = (section: Locator, what: RegExp) =>
    section.getByTestId("tx-status").getByText(what).waitFor({ timeout: 60_000 });
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

  before(async function () {
    web = await startWebSession(2, "gridmesh-e2e-delivery-");
    system = web.system;
    [home1, home2] = [system.homes[0]!, system.homes[1]!];
    expect(home1.autoTrading || home2.autoTrading, "both homes trade by hand at start").to.equal(false);
    client = createPublicClient({ transport: http(system.rpcUrl) });
    const [symbol, decimals] = await Promise.all([
      client.readContract({
        address: system.contracts.testDollar,
        abi: testDollarAbi,
        functionName: "symbol",
      }),
      client.readContract({
        address: system.contracts.testDollar,
        abi: testDollarAbi,
        functionName: "decimals",
      }),
    ]);
    // How the web app writes amounts (useToken), so that the page's numbers compare to the chain's.
    money = (units) => formatMoney(units, decimals, symbol);
  });

  after(async () => {
    await web?.shutdown();
  });

  it("lets home 1 propose a forward and write an option, with the margin and collateral shown before signing", async () => {
    page1 = await web.pageAs(home1);
    await web.open(page1, "/contracts");

    const forwards = page1.getByTestId("forwards");
    const forwardPenalty = await client.readContract({
      address: forwardMarket(),
      abi: forwardMarketAbi,
      functionName: "penaltyPerKwh",
    });
    await forwards.getByLabel("Sell", { exact: true }).check();
    // Four open intervals ahead: a minute for home 2 to accept before the window's gate closes.
    await forwards.getByLabel("Starts after (open intervals from now)").fill("4");
    await forwards.getByLabel("Intervals", { exact: true }).fill("1");
    await forwards.getByLabel("Energy per interval (kWh)").fill("0.2");
    await forwards.getByLabel(/Fixed price/).fill("0.14");
    const margin = lockFor(WH, forwardPenalty);
    expect(await forwards.getByTestId("margin").innerText()).to.contain(
      `Margin locked now: ${money(margin)}`,
    );
    forwardId = await client.readContract({
      address: forwardMarket(),
      abi: forwardMarketAbi,
      functionName: "nextId",
    });
    await forwards.getByRole("button", { name: "Propose" }).click();
    await txDone(forwards, /Propose to sell .* done, in block/);
    const proposed = await forward(forwardId);
    expect(proposed.status).to.equal(1);
    expect(same(proposed.seller, home1.owner)).to.equal(true);
    expect(same(proposed.sellerMeter, home1.meter)).to.equal(true);
    expect(BigInt(proposed.whPerInterval)).to.equal(WH);
    expect(proposed.lastInterval).to.equal(proposed.firstInterval);
    expect(proposed.sellerMargin).to.equal(margin);

    const options = page1.getByTestId("options");
    const optionPenalty = await client.readContract({
      address: optionMarket(),
      abi: optionMarketAbi,
      functionName: "penaltyPerKwh",
    });
    await options.getByLabel("Starts after (open intervals from now)").fill("5");
    await options.getByLabel("Intervals", { exact: true }).fill("1");
    await options.getByLabel("Energy per interval (kWh)").fill("0.2");
    await options.getByLabel(/Strike/).fill("0.15");
    await options.getByLabel(/Premium/).fill("0.05");
    const collateral = lockFor(WH, optionPenalty);
    expect(await options.getByTestId("collateral").innerText()).to.contain(
      `Collateral locked now: ${money(collateral)}`,
    );
    optionId = await client.readContract({
      address: optionMarket(),
      abi: optionMarketAbi,
      functionName: "nextId",
    });
    await options.getByRole("button", { name: "Write option" }).click();
    await txDone(options, /Write an option .* done, in block/);
    const written = await option(optionId);
    expect(written.status).to.equal(1);
    expect(same(written.seller, home1.owner)).to.equal(true);
    expect(written.sellerMargin).to.equal(collateral);
    const terms = await client.readContract({
      address: optionMarket(),
      abi: optionMarketAbi,
      functionName: "getOption",
      args: [optionId],
    });
    expect(terms.premium).to.equal(PREMIUM);
    await web.shot(page1, "contracts-proposed");
  });

  it("lets home 2 accept the forward and buy and exercise the option; both sides see the positions", async () => {
    expect(optionId !== undefined, "the forward and option were offered").to.equal(true);
    page2 = await web.pageAs(home2);
    await web.open(page2, "/contracts");

    const forwards = page2.getByTestId("forwards");
    const buyerMargin = lockFor(WH, FORWARD_PRICE);
    const accept = forwards.locator(`tr[data-id="${forwardId}"]`).getByRole("button", { name: /^Accept/ });
    expect(await accept.innerText()).to.equal(`Accept (buy, lock ${money(buyerMargin)})`);
    await accept.click();
    await txDone(forwards, new RegExp(`Accept forward #${forwardId} .* done, in block`));
    const accepted = await forward(forwardId);
    expect(accepted.status).to.equal(ACTIVE);
    expect(same(accepted.buyer, home2.owner)).to.equal(true);
    expect(accepted.buyerMargin).to.equal(buyerMargin);

    const options = page2.getByTestId("options");
    const premiumBefore = await client.readContract({
      address: optionMarket(),
      abi: optionMarketAbi,
      functionName: "balanceOf",
      args: [home1.owner],
    });
    const buy = options.locator(`li[data-id="${optionId}"]`).getByRole("button", { name: /^Buy for/ });
    expect(await buy.innerText()).to.equal(`Buy for ${money(PREMIUM)}`);
    await buy.click();
    await txDone(options, new RegExp(`Buy option #${optionId} .* done, in block`));
    const escrow = lockFor(WH, STRIKE);
    const exercise = options.locator(`li[data-id="${optionId}"]`).getByRole("button", { name: /^Exercise/ });
    expect(await exercise.innerText()).to.equal(`Exercise (escrow ${money(escrow)})`);
    await exercise.click();
    await txDone(options, new RegExp(`Exercise option #${optionId} .* done, in block`));
    const exercised = await option(optionId);
    expect(exercised.status).to.equal(ACTIVE);
    expect(same(exercised.buyer, home2.owner)).to.equal(true);
    expect(exercised.buyerMargin).to.equal(escrow);
    const premiumAfter = await client.readContract({
      address: optionMarket(),
      abi: optionMarketAbi,
      functionName: "balanceOf",
      args: [home1.owner],
    });
    expect(premiumAfter - premiumBefore, "the premium is credited to the writer").to.equal(PREMIUM);

    // Both sides list the positions as active (home 1's page refetches on its own).
    for (const [page, role] of [
      [page1, "written"],
      [page2, "held"],
    ] as const) {
      await page
        .getByTestId("forwards")
        .locator(`tr[data-id="${forwardId}"]`)
        .getByText("active")
        .waitFor({ timeout: 30_000 });
      await page
        .getByTestId("options")
        .locator(`li[data-id="${optionId}"]`)
        .getByText(`(${role}, active`)
        .waitFor({ timeout: 30_000 });
    }
    await web.shot(page2, "contracts-positions");
  });

  it("lets home 1 set an automatic trading rule its agent trades under, and stop it", async () => {
    await web.open(page1, "/market");
    const auto = page1.getByTestId("auto-trading");
    await auto.getByLabel("Most energy per interval (kWh)").fill("0.3");
    await auto.getByLabel(/Sell surplus at no less than/).fill("0.11");
    await auto.getByLabel(/Buy shortfall at no more than/).fill("0.19");
    await auto.getByLabel("For (days)").fill("1");
    await auto.getByLabel(/Deposits the market may lock/).fill("20");
    const row = auto.locator("tr", { hasText: home1.meter });
    await row.getByRole("button", { name: "Set rule" }).click();
    await txDone(auto, /Let the market lock up to .* done, in block/);

    const delegation = await client.readContract({
      address: system.contracts.energyMarket,
      abi: energyMarketAbi,
      functionName: "delegationOf",
      args: [home1.owner, home1.meter],
    });
    expect(delegation.maxWhPerInterval).to.equal(300);
    expect(delegation.minSellPricePerKwh).to.equal(110_000n);
    expect(delegation.maxBuyPricePerKwh).to.equal(190_000n);
    const block = await client.getBlock();
    expect(delegation.expiry > block.timestamp).to.equal(true);
    const allowance = await client.readContract({
      address: system.contracts.testDollar,
      abi: testDollarAbi,
      functionName: "allowance",
      args: [home1.owner, system.contracts.energyMarket],
    });
    expect(allowance).to.equal(20_000_000n);
    await row.getByText(/sell ≥ 0\.11 .*buy ≤ 0\.19 /).waitFor({ timeout: 30_000 });
    await web.shot(page1, "market-automatic-trading");

    // The agent runs once an interval: its next order for the owner comes from the meter's address.
    const order = await until(
      "home 1's agent to place an order under the rule",
      async () => {
        const orders = await web.gateway<{ items: OrderJson[] }>(
          `/v1/orders?owner=${home1.owner.toLowerCase()}`,
        );
        return orders.items.find((o) => same(o.meter, home1.meter));
      },
      3 * 60_000,
    ).catch(async (error: Error) => {
      const { readFile } = await import("node:fs/promises");
      const log = await readFile(home1.logFile, "utf8").catch(() => "");
      const trader = log.split("\n").filter((l) => l.includes('"part":"trader"'));
      throw new Error(`${error.message}; the agent's trader said:\n${trader.slice(-10).join("\n")}`);
    });
    expect(BigInt(order.maxWh) <= 300n, "within the rule's volume").to.equal(true);
    expect(BigInt(order.limitPrice)).to.equal(order.side === "offer" ? 110_000n : 190_000n);
    const placed = await client.getTransaction({ hash: order.placedTx });
    expect(same(placed.from, home1.meter), "the meter's agent signed it, not the owner").to.equal(true);
    const used = await client.readContract({
      address: system.contracts.energyMarket,
      abi: energyMarketAbi,
      functionName: "delegatedWh",
      args: [home1.owner, home1.meter, BigInt(order.interval)],
    });
    expect(used).to.equal(BigInt(order.maxWh));

    await row.getByRole("button", { name: "Stop" }).click();
    await txDone(auto, /Stop automatic trading by .* done, in block/);
    const revoked = await client.readContract({
      address: system.contracts.energyMarket,
      abi: energyMarketAbi,
      functionName: "delegationOf",
      args: [home1.owner, home1.meter],
    });
    expect(revoked.expiry).to.equal(0n);
    await row.getByText("none").waitFor({ timeout: 30_000 });
  });

  it("settles the forward and the option against the seller meter's readings, and both sides see it", async () => {
    expect(page2 !== undefined, "the forward and option were agreed").to.equal(true);
    await web.open(page1, "/contracts");
    for (const [market, abi, id, price] of [
      [forwardMarket(), forwardMarketAbi, forwardId, FORWARD_PRICE],
      [optionMarket(), optionMarketAbi, optionId, STRIKE],
    ] as const) {
      const s = await until(
        `schedule ${id} of ${market} to settle`,
        async () => {
          const s = await scheduleOf(market, abi, id);
          return s.status === CLOSED ? s : undefined;
        },
        5 * 60_000,
      );
      // Each interval's delivered share comes from the seller meter's reading in the ledger.
      const settled = await client.getContractEvents({
        address: market,
        abi,
        eventName: "DeliverySettled",
        args: { id },
        fromBlock: 0n,
      });
      expect(settled).to.have.length(1);
      const e = settled[0]!.args;
      const [recorded, exported, , obligation] = await client.readContract({
        address: system.contracts.deliveryLedger,
        abi: deliveryLedgerAbi,
        functionName: "delivery",
        args: [home1.meter, e.interval!],
      });
      expect(recorded, "the seller meter's reading of the interval is in the ledger").to.equal(true);
      const delivered = exported >= obligation ? WH : (WH * exported) / obligation;
      expect(BigInt(e.deliveredWh!)).to.equal(delivered);
      const paid = valueOf(delivered, price);
      const penalty = valueOf(WH - delivered, s.penaltyPerKwh);
      expect(e.paid).to.equal(paid);
      expect(e.penalty).to.equal(penalty);
      const [completed] = await client.getContractEvents({
        address: market,
        abi,
        eventName: "ScheduleCompleted",
        args: { id },
        fromBlock: 0n,
      });
      expect(completed?.args.sellerReleased).to.equal(s.sellerMargin - penalty);
      expect(completed?.args.buyerReleased).to.equal(s.buyerMargin - paid);

      const summary =
        `Delivered ${formatEnergy(delivered)} of ${formatEnergy(WH)}; paid ${money(paid)}, penalties ${money(penalty)}; ` +
        `margins back: seller ${money(s.sellerMargin - penalty)}, buyer ${money(s.buyerMargin - paid)}`;
      for (const [page, role] of [
        [page1, "written"],
        [page2, "held"],
      ] as const) {
        const isForward = market === forwardMarket();
        const position = page.getByTestId(isForward ? "forwards" : "options").locator(`[data-id="${id}"]`);
        await position.getByTestId("settlement").getByText(summary).waitFor({ timeout: 30_000 });
        // A shortfall is marked when the meter delivered less than it owed.
        const status = delivered < WH ? "closed (shortfall)" : "closed";
        // The schedule's status is read apart from its events: it may show a moment later.
        const expected = isForward ? `${status}\t1 / 1` : `(${role}, closed)`;
        await until(
          `"${expected}" in position ${id}: ${await position.innerText()}`,
          async () => ((await position.innerText()).includes(expected) ? true : undefined),
          30_000,
        );
      }
    }
    await web.shot(page1, "contracts-settled-seller");
    await web.shot(page2, "contracts-settled-buyer");
  });

  it("pays the forward's seller what the forward market credited (payment and margin) when it withdraws", async () => {
    const forwards = page1.getByTestId("forwards");
    const credited = await client.readContract({
      address: forwardMarket(),
      abi: forwardMarketAbi,
      functionName: "balanceOf",
      args: [home1.owner],
    });
    expect(credited > 0n, "the seller was paid or its margin came back").to.equal(true);
    await forwards
      .getByTestId("withdrawable")
      .getByText(`Credited to you here: ${money(credited)}`)
      .waitFor();
    const balance = () =>
      client.readContract({
        address: system.contracts.testDollar,
        abi: testDollarAbi,
        functionName: "balanceOf",
        args: [home1.owner],
      });
    const before = await balance();
    await forwards.getByRole("button", { name: "Withdraw to wallet" }).click();
    await txDone(forwards, /Withdraw .* done, in block/);
    expect((await balance()) - before).to.equal(credited);
    await forwards
      .getByTestId("withdrawable")
      .getByText(`Credited to you here: ${money(0n)}`)
      .waitFor();
  });
});
