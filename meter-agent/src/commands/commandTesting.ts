import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Wallet } from "ethers";

import {
  buildMeterCommand,
  meterCommandDomain,
  meterCommandToJson,
  meterCommandTypes,
  mutableTypes,
  type Address,
  type MeterCommandName,
  type MeterCommandParamsInput,
  type MeterReading,
} from "@gridmesh/contracts";

import { ReadingSigner, type ReadingDomain } from "../signing/readingSigner.js";
import { ReadingStore } from "../store/readingStore.js";

/** Test support for the command modules: a real store in a temp dir, filled with really signed readings. */

export const readingDomain: ReadingDomain = {
  chainId: 31337n,
  ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
export const meterWallet = new Wallet(`0x${"11".repeat(32)}`);
export const meterAddress = meterWallet.address as Address;

export interface TempStore {
  store: ReadingStore;
  path: string;
  /** Closes the store and opens the same file again, as a restarted agent would. */
  reopen(): ReadingStore;
  remove(): void;
}

export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), "gridmesh-commands-"));
  const path = join(dir, "meter.sqlite");
  const handle: TempStore = {
    store: ReadingStore.open(path, meterAddress),
    path,
    reopen() {
      handle.store.close();
      handle.store = ReadingStore.open(path, meterAddress);
      return handle.store;
    },
    remove() {
      handle.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/**
 * Appends one signed reading per listed interval, continuing the store's sequence, signed by
 * `signer` (the test meter's by default; it must be the store's meter). Reading k uses
 * 100 + k Wh of import and 10 × k Wh of export; across a gap in the intervals the registers move by
 * 50 Wh of import per missing interval, as they would while the agent was down.
 */
export async function appendReadings(
  store: ReadingStore,
  intervals: readonly bigint[],
  signer = new ReadingSigner(meterWallet, meterAddress, readingDomain),
): Promise<MeterReading[]> {
  const out: MeterReading[] = [];
  for (const interval of intervals) {
    const last = store.last()?.reading;
    const sequence = (last?.sequence ?? 0n) + 1n;
    const missing = last === undefined ? 0n : interval - last.interval - 1n;
    const importStartWh = (last?.importEndWh ?? 1000n) + 50n * missing;
    const exportStartWh = last?.exportEndWh ?? 0n;
    const reading: MeterReading = {
      meter: store.meter,
      interval,
      sequence,
      importStartWh,
      importEndWh: importStartWh + 100n + sequence,
      exportStartWh,
      exportEndWh: exportStartWh + 10n * sequence,
      timestamp: (interval + 1n) * 300n,
    };
    const signed = await signer.sign(reading);
    const next = {
      interval: interval + 1n,
      importWh: reading.importEndWh,
      exportWh: reading.exportEndWh,
      atMs: 0,
    };
    store.append(signed, next, 1_700_000_000_000);
    out.push(reading);
  }
  return out;
}

/**
 * A microgrid controller's side of the command protocol, for tests of a running agent: each call
 * signs a command for `meter` with the next nonce (valid a minute) and posts it to the agent's
 * command server at `url`.
 */
export function commandClient(options: {
  url: () => string | undefined;
  controller: Pick<Wallet, "signTypedData">;
  meter: () => Address;
}) {
  const types = mutableTypes(meterCommandTypes);
  let nonce = 0n;
  return async function command<K extends MeterCommandName>(name: K, params: MeterCommandParamsInput<K>) {
    const expiry = BigInt(Math.floor(Date.now() / 1000) + 60);
    const message = buildMeterCommand(options.meter(), ++nonce, expiry, name, params);
    const signature = await options.controller.signTypedData(meterCommandDomain(31337n), types, message);
    const response = await fetch(new URL("/v1/commands", options.url()), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: meterCommandToJson(message), signature }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { result: Record<string, unknown> },
    };
  };
}
