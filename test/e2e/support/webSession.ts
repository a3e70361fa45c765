import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Browser, BrowserContext, Page } from "playwright-core";

import {
  type LocalHome,
  type LocalSystem,
  startLocalSystem,
} from "../../../scripts/local/startLocalSystem.js";
import { waitFor } from "../../helpers/serviceProcess.js";
import { launchChromium } from "./browser.js";
import { installInjectedWallet } from "./injectedWallet.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const SCREENSHOTS = path.join(root, "test-results", "screenshots");

/**
 * The local system `npm start` runs (on free ports, in a fresh data directory, 15 s intervals) with
 * its web app, and a headless Chromium to drive it: what every browser test starts from.
 */
export async function startWebSession(homes: number, dataDirPrefix: string): Promise<WebSession> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const system = await startLocalSystem({
    homes,
    interval: 15,
    port: 0,
    gatewayPort: 0,
    webPort: 0,
    dataDir: await mkdtemp(path.join(tmpdir(), dataDirPrefix)),
  });
  if (system.webUrl === undefined) {
    await system.stop();
    throw new Error(`the web app did not start: ${system.webNote ?? "no reason given"}`);
  }
  try {
    return new WebSession(system, await launchChromium());
  } catch (error) {
    await system.stop();
    throw error;
  }
}

/** Probes every second until it returns a value (a throw counts as not yet), or fails after `timeoutMs`. */
export function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return waitFor(what, () => probe().catch(() => undefined), timeoutMs, 1_000);
}

/** Browser pages on the local system's web app, each with a home owner's injected wallet. */
export class WebSession {
  readonly #contexts: BrowserContext[] = [];

  constructor(
    readonly system: LocalSystem,
    readonly browser: Browser,
  ) {}

  async gateway<T>(p: string): Promise<T> {
    const res = await fetch(`${this.system.gatewayUrl}${p}`);
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async pageAs(home: LocalHome, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await this.browser.newContext({ viewport });
    this.#contexts.push(context);
    const page = await context.newPage();
    await installInjectedWallet(page, { rpcUrl: this.system.rpcUrl, account: home.owner });
    return page;
  }

  async open(page: Page, route: string): Promise<void> {
    await page.goto(`${this.system.webUrl!}${route}`);
    // The wallet is announced at once; connect it when the app has not reconnected by itself. The
    // button re-renders while wagmi discovers wallets, so a click may miss: try until connected.
    const connected = page.getByTestId("connected-address");
    const deadline = Date.now() + 30_000;
    while (!(await connected.isVisible())) {
      if (Date.now() > deadline) throw new Error(`could not connect the wallet on ${route}`);
      await page
        .getByRole("button", { name: /^Connect/ })
        .first()
        .click({ timeout: 1_000 })
        .catch(() => undefined);
      await connected.waitFor({ timeout: 1_000 }).catch(() => undefined);
    }
  }

  shot(page: Page, name: string): Promise<Buffer> {
    return page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async close(): Promise<void> {
    for (const c of this.#contexts) await c.close().catch(() => undefined);
  }

  /** Closes the pages and the browser, then stops the local system. */
  async shutdown(): Promise<void> {
    await this.close();
    await this.browser.close().catch(() => undefined);
    await this.system.stop();
  }
}
