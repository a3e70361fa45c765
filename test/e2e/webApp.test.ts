/**
 * The web app in real headless Chromium against the whole local system (`startLocalSystem`, what
 * `npm start` runs): a prosumer offers, a neighbour bids, the interval clears and settles from the
 * simulated meters' signed readings, and the seller's balance, trades and bill follow; the audit
 * page recomputes the clearing and tells a forged reading from a real one. Every page is
 * screenshotted into test-results/screenshots/ (phone-sized for the market page).
 */
import { expect } from "chai";
import type { Page } from "playwright-core";

import { type BatteryState, valueOf } from "@gridmesh/contracts";

import { formatEnergy } from "../../web/src/lib/units.js";
import type { LocalHome, LocalSystem } from "../../scripts/local/startLocalSystem.js";
import { startWebSession, until, type WebSession } from "./support/webSession.js";

interface OrderJson {
  orderId: string;
  interval: string;
  side: string;
  filledWh: string;
  settledWh: string;
  deliveredWh: string;
  status: string;
}
interface TradeJson {
  interval: string;
  wh: string;
  price: string;
  seller: { owner: string | null };
  buyer: { owner: string | null };
  settlementStatus: string | null;
}

describe("web app end to end (headless Chromium, the whole local system)", function () {
  this.timeout(15 * 60_000);
  let system: LocalSystem;
  let web: WebSession;
  let seller: LocalHome;
  let buyer: LocalHome;

  const gateway = <T>(p: string): Promise<T> => web.gateway<T>(p);
  const pageAs = (home: LocalHome, viewport?: { width: number; height: number }) =>
    web.pageAs(home, viewport);
  const open = (page: Page, route: string) => web.open(page, route);
  const shot = (page: Page, name: string) => web.shot(page, name);

  before(async function () {
    web = await startWebSession(3, "gridmesh-e2e-");
    system = web.system;
    const manual = system.homes.filter((h) => !h.autoTrading);
    if (manual.length < 2)
      throw new Error("the local system should have two homes without automatic trading");
    [seller, buyer] = [manual[0]!, manual[1]!];
  });

  after(async () => {
    await web?.shutdown();
  });

  let traded: { interval: string; offerId: string } | undefined;
  let deliveredWh: bigint | undefined;

  it("lets a prosumer offer and a neighbour bid in the browser, with deposits shown before signing", async () => {
    const sellerPage = await pageAs(seller);
    await open(sellerPage, "/market");
    const form = sellerPage.getByTestId("place-order");
    await form.getByLabel("Sell (offer)").check();
    // Two open intervals ahead: time to sign both orders before its gate closes (15 s an interval).
    const picker = sellerPage.getByTestId("interval-picker");
    const interval = await picker.locator("option").nth(2).getAttribute("value");
    await picker.selectOption(interval);
    await form.getByLabel("Energy (kWh)").fill("0.05");
    // Below the automatic traders' floors, so this offer is the first the auction takes.
    await form.getByLabel(/Lowest price you accept/).fill("0.05");
    expect(await form.getByTestId("deposit").innerText()).to.match(/Collateral locked now: \d/);
    await form.getByRole("button", { name: "Place offer" }).click();
    await sellerPage
      .getByTestId("tx-status")
      .getByText(/Offer .* done, in block/)
      .waitFor({ timeout: 30_000 });
    await shot(sellerPage, "market-after-offer");

    const buyerPage = await pageAs(buyer, { width: 390, height: 844 });
    await open(buyerPage, "/market");
    const bidForm = buyerPage.getByTestId("place-order");
    await bidForm.getByLabel("Buy (bid)").check();
    await buyerPage.getByTestId("interval-picker").selectOption(interval);
    await bidForm.getByLabel("Energy (kWh)").fill("0.05");
    await bidForm.getByLabel(/Highest price you pay/).fill("0.2");
    expect(await bidForm.getByTestId("deposit").innerText()).to.match(/Escrow locked now: 0\.01 /);
    await bidForm.getByRole("button", { name: "Place bid" }).click();
    await buyerPage
      .getByTestId("tx-status")
      .getByText(/Bid .* done, in block/)
      .waitFor({ timeout: 30_000 });
    // The order book shows both orders from the chain, through the gateway's indexer.
    await buyerPage.getByTestId("order-book").getByText("Offer").first().waitFor();
    await shot(buyerPage, "market-phone");

    const offers = await gateway<{ items: OrderJson[] }>(
      `/v1/orders?owner=${seller.owner.toLowerCase()}&interval=${interval}`,
    );
    expect(offers.items.map((o) => o.side)).to.deep.equal(["offer"]);
    traded = { interval: interval!, offerId: offers.items[0]!.orderId };
  });

  it("clears and settles the interval from the simulated meters' readings, and the seller sees it", async () => {
    expect(traded, "the orders were placed").to.not.equal(undefined);
    const { interval, offerId } = traded!;
    const diagnose = async () =>
      JSON.stringify({
        orders: await gateway(`/v1/orders?interval=${interval}`),
        clearing: await gateway(`/v1/clearings/${interval}`).catch((e: Error) => e.message),
        settlements: await gateway(`/v1/settlements?interval=${interval}`),
        readings: await gateway(`/v1/readings?fromInterval=${interval}&toInterval=${interval}`),
      });
    const offer = await until(
      `offer ${offerId} to settle`,
      async () => {
        const o = (
          await gateway<{ items: OrderJson[] }>(
            `/v1/orders?owner=${seller.owner.toLowerCase()}&interval=${interval}`,
          )
        ).items[0];
        return o !== undefined && (o.status === "settled" || o.status === "released") ? o : undefined;
      },
      4 * 60_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}; the gateway's view: ${await diagnose()}`);
    });
    expect(BigInt(offer.filledWh)).to.equal(50n);
    expect(BigInt(offer.settledWh)).to.equal(50n);
    deliveredWh = BigInt(offer.deliveredWh);
    const readings = await gateway<{ items: unknown[] }>(
      `/v1/readings?meter=${seller.meter.toLowerCase()}&fromInterval=${interval}&toInterval=${interval}`,
    );
    expect(readings.items, "the seller's meter's signed reading of the interval").to.have.length(1);

    const page = await pageAs(seller);
    await open(page, "/trades");
    const row = page.getByTestId("trades").locator("tr", { hasText: `#${offerId}` });
    await row.getByText(/settled/).waitFor();
    await shot(page, "trades");

    const trades = await gateway<{ items: TradeJson[] }>(
      `/v1/trades?account=${seller.owner.toLowerCase()}&interval=${interval}`,
    );
    const earned = trades.items.reduce((sum, t) => sum + valueOf(BigInt(t.wh), BigInt(t.price)), 0n);
    expect(earned > 0n).to.equal(true);
    await open(page, "/");
    await page.getByTestId("my-meters").getByText(seller.meter, { exact: false }).waitFor();
    const totals = page.getByTestId("dashboard-totals");
    await totals.getByText(/Earned selling/).waitFor();
    await until(
      "the dashboard to count the sale",
      async () => ((await totals.innerText()).match(/Earned selling\s*\n?\s*0\.00 /) ? undefined : true),
      30_000,
    );
    await shot(page, "dashboard");
  });

  it("recomputes the traded interval's clearing on the audit page and finds it matches", async () => {
    const page = await pageAs(seller);
    await open(page, "/audit");
    await page.getByLabel("Interval").fill(traded!.interval);
    await page.getByRole("button", { name: "Recompute" }).click();
    const verdict = page.getByTestId("clearing-verdict");
    await verdict.waitFor();
    expect(await verdict.innerText()).to.contain("matches the recomputation");
    await page.getByTestId("blocks").waitFor();
    await shot(page, "audit");
  });

  it("shows a stored reading as valid and the same reading altered as forged", async () => {
    const page = await pageAs(seller);
    await open(page, "/audit");
    const verifier = page.getByTestId("reading-verifier");
    await verifier.getByRole("button", { name: "Load a stored reading" }).click();
    const box = verifier.getByLabel("Signed reading (JSON)");
    await until(
      "a stored reading in the box",
      async () => ((await box.inputValue()).includes("signature") ? true : undefined),
      10_000,
    );
    await verifier.getByRole("button", { name: "Verify" }).click();
    await verifier
      .getByTestId("reading-verdict")
      .getByText(/^Valid: signed by meter/)
      .waitFor();

    const json = JSON.parse(await box.inputValue()) as { reading: { exportEndWh: string } };
    json.reading.exportEndWh = (BigInt(json.reading.exportEndWh) + 1000n).toString();
    await box.fill(JSON.stringify(json, null, 2));
    await verifier.getByRole("button", { name: "Verify" }).click();
    await verifier
      .getByTestId("reading-verdict")
      .getByText(/^Invalid: .*altered or forged/)
      .waitFor();
    await shot(page, "audit-forged-reading");
  });

  it("renders the devices, forwards and options, and bills pages with the system's data", async () => {
    const page = await pageAs(seller);
    await open(page, "/devices");
    await page.getByTestId("devices").getByText("active on chain").waitFor();
    await page
      .getByTestId("identity")
      .first()
      .getByText(/Sealed \(Keymaker\)/)
      .waitFor();
    // Home 1's battery is shared: the cell and its two partitions, as the meter's signed report says.
    const report = await until(
      "a battery report of the seller's meter",
      async () =>
        (
          await gateway<{ latest: { batteries: BatteryState[] } | null }>(
            `/v1/devices/${seller.meter}/battery`,
          )
        ).latest ?? undefined,
      60_000,
    );
    expect(report.batteries.map((b) => b.name)).to.deep.equal(["home", "household", "microgrid-share"]);
    const partitions = page.getByTestId("battery-partitions");
    await partitions.locator('tr[data-battery="microgrid-share"]').getByText("partition of home").waitFor();
    await partitions.locator('tr[data-battery="household"]').getByText("partition of home").waitFor();
    const soc = await partitions.locator('tr[data-battery="home"]').getByTestId("soc").innerText();
    expect(Number.parseFloat(soc)).to.be.within(0, 100);
    await shot(page, "devices");

    // The dashboard charts the battery beside the energy: the cell's charge now and each partition.
    await open(page, "/");
    const batteries = page.getByTestId("batteries");
    await batteries.locator('[data-battery="household"]').waitFor();
    await batteries.getByRole("img", { name: "State of charge (%)" }).waitFor();
    await shot(page, "dashboard-batteries");
    await open(page, "/contracts");
    await page.getByTestId("forwards").waitFor();
    await page.getByTestId("options").waitFor();
    await shot(page, "forwards-options");
    await open(page, "/bills");
    await page.getByRole("button", { name: "Show my bills" }).click();
    // The utility bills the first month once it ends on the simulated clock (a few minutes in).
    await page
      .getByTestId("bills")
      .getByText(system.firstBilledMonth)
      .waitFor({ timeout: 8 * 60_000 });
    // The seller sold only through the browser: the bill's P2P sales line is that offer's delivery.
    const sales = page.getByTestId("bills").locator("tr", { hasText: "P2P sales delivered" });
    expect(await sales.innerText()).to.contain(formatEnergy(deliveredWh!));
    // Above the billed months, the month now running so far, as a draft: the month after the bill.
    const [year, month] = system.firstBilledMonth.split("-").map(Number) as [number, number];
    const running = new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 7);
    const statement = page.getByTestId("statement");
    await statement.getByText("This month so far").waitFor();
    await statement.getByText("draft", { exact: true }).waitFor();
    await statement.getByText(new RegExp(`^${running}, from `)).waitFor({ timeout: 60_000 });
    await shot(page, "bills");
  });
});
