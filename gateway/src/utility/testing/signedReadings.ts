import { Wallet } from "ethers";

import {
  type Address,
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  type MeterReading,
  signedReadingToJson,
  type SignedReadingJson,
} from "@gridmesh/contracts";

export const CHAIN_ID = 31337n;
export const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
export const INTERVAL_SECONDS = 900;

const domain = deliveryLedgerDomain(CHAIN_ID, LEDGER);
const types = mutableTypes(meterReadingTypes);

/** A meter with a real key, signing continuous readings as its agent would. */
export class TestMeter {
  readonly wallet: Wallet;
  readonly address: Address;

  /** `seed` picks a fixed key, so the same meter is the same address in every test. */
  constructor(seed: number) {
    this.wallet = new Wallet(`0x${(seed + 1).toString(16).padStart(64, "0")}`);
    this.address = this.wallet.address.toLowerCase() as Address;
  }

  /**
   * The meter's reading of `interval` with sequence `sequence`: it imports `importWh` and exports
   * `exportWh` every interval from the first one, so registers are continuous across readings.
   */
  reading(
    interval: number,
    sequence: number,
    perInterval = { importWh: 10, exportWh: 3 },
    first = 0,
  ): MeterReading {
    const n = BigInt(interval - first);
    const i = BigInt(perInterval.importWh);
    const e = BigInt(perInterval.exportWh);
    return {
      meter: this.address,
      interval: BigInt(interval),
      sequence: BigInt(sequence),
      importStartWh: 1000n + n * i,
      importEndWh: 1000n + (n + 1n) * i,
      exportStartWh: 500n + n * e,
      exportEndWh: 500n + (n + 1n) * e,
      timestamp: BigInt((interval + 1) * INTERVAL_SECONDS + 5),
    };
  }

  async sign(
    reading: MeterReading,
    by: Pick<Wallet, "signTypedData"> = this.wallet,
  ): Promise<SignedReadingJson> {
    const signature = (await by.signTypedData(domain, types, reading)) as `0x${string}`;
    return signedReadingToJson({ reading, signature });
  }

  /**
   * Signed readings for every interval that ends inside the hour starting at `hourMs` — what a
   * controller polling every interval receives in that hour — numbered from the first interval ever.
   */
  async readingsReceivedIn(hourMs: number, epochInterval: number): Promise<SignedReadingJson[]> {
    const perHour = 3600 / INTERVAL_SECONDS;
    const firstEnding = hourMs / 1000 / INTERVAL_SECONDS - 1;
    const out: SignedReadingJson[] = [];
    for (let k = 0; k < perHour; k++) {
      const interval = firstEnding + k;
      out.push(
        await this.sign(this.reading(interval, interval - epochInterval + 1, undefined, epochInterval)),
      );
    }
    return out;
  }
}
