import type { Page } from "playwright-core";

/**
 * A browser wallet for the end-to-end tests, injected into the page the way a wallet extension
 * is: an EIP-1193 provider on `window.ethereum`, announced over EIP-6963. The app under test is
 * the production build with no test code in it; it finds this wallet like any other. Requests go
 * to the test process, which answers the account requests itself and passes everything else to
 * the development node — whose unlocked account signs the transactions, as a wallet would.
 */
export interface InjectedWalletOptions {
  rpcUrl: string;
  account: string;
  /** Called with each method the page asked for (the tests check what was signed). */
  onRequest?: (method: string, params: unknown) => void;
}

const BRIDGE = "__gridmeshTestWallet";

export async function installInjectedWallet(page: Page, options: InjectedWalletOptions): Promise<void> {
  let id = 0;
  await page.exposeFunction(BRIDGE, async (method: string, params: unknown): Promise<string> => {
    options.onRequest?.(method, params);
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return JSON.stringify({ result: [options.account.toLowerCase()] });
      case "wallet_switchEthereumChain":
      case "wallet_addEthereumChain":
        return JSON.stringify({ result: null });
      case "wallet_requestPermissions":
      case "wallet_getPermissions":
        return JSON.stringify({ result: [{ parentCapability: "eth_accounts" }] });
      default: {
        const response = await fetch(options.rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params ?? [] }),
        });
        const body = (await response.json()) as {
          result?: unknown;
          error?: { code: number; message: string; data?: unknown };
        };
        return JSON.stringify(body.error !== undefined ? { error: body.error } : { result: body.result });
      }
    }
  });
  // A string, not a function: the test runner's TypeScript transform would add helpers to a
  // function's source that do not exist in the page.
  await page.addInitScript(`(${PAGE_WALLET})(${JSON.stringify(BRIDGE)})`);
}

/** The page side: an EIP-1193 provider whose every request crosses to the test process. */
const PAGE_WALLET = `function (bridge) {
  const listeners = new Map();
  const provider = {
    isGridMeshTestWallet: true,
    async request({ method, params }) {
      const answer = JSON.parse(await window[bridge](method, params));
      if (answer.error !== undefined) {
        throw Object.assign(new Error(answer.error.message), { code: answer.error.code, data: answer.error.data });
      }
      return answer.result;
    },
    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(listener);
      return provider;
    },
    removeListener(event, listener) {
      listeners.get(event)?.delete(listener);
      return provider;
    },
  };
  const info = {
    uuid: "0f9d6a0e-6b0e-4c55-9d1e-6a2b1c0d9e11",
    name: "GridMesh Test Wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'/%3E",
    rdns: "dev.gridmesh.testwallet",
  };
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  window.ethereum = provider;
  announce();
}`;
