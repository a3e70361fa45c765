import { join } from "node:path";

import { realClock, type Address, type MeterReading } from "@gridmesh/contracts";
import { Wallet, type HDNodeWallet } from "ethers";
import { pino } from "pino";

import type { Battery } from "../../meter-agent/src/bal/battery.js";
import { simulatedBattery } from "../../meter-agent/src/bal/simulatedBattery.js";
import type { SimulatedDriver } from "../../meter-agent/src/bal/simulatedDriver.js";
import { CommandExecutor } from "../../meter-agent/src/commands/commandExecutor.js";
import { appendReadings } from "../../meter-agent/src/commands/commandTesting.js";
import { CommandServer } from "../../meter-agent/src/commands/commandServer.js";
import {
  readBillingRates,
  readControllerNonce,
  readMeterState,
} from "../../meter-agent/src/commands/meterState.js";
import { ReadingSigner } from "../../meter-agent/src/signing/readingSigner.js";
import { ReadingStore } from "../../meter-agent/src/store/readingStore.js";

export const READING_DOMAIN = {
  chainId: 31337n,
  ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
};
const BATTERY_AH = 100;

export interface MeterAgentHarnessOptions {
  dir: string;
  name: string;
  /** Controllers whose commands the agent obeys. */
  controllers: Address[];
  /** A home battery at this state of charge; none when undefined. */
  batteryCharge?: number;
}

/**
 * A meter agent's command side as the agent runtime assembles it (meter-agent agent/meterAgent.ts):
 * its SQLite reading store, the command executor and the HTTP command server on loopback, commands
 * checked on the wall clock, and optionally a simulated home battery. Readings are signed with the
 * meter's own key and appended as the recorder would, at the test's pace.
 */
export class MeterAgentHarness {
  readonly wallet: HDNodeWallet;
  readonly meter: Address;
  readonly store: ReadingStore;
  readonly battery: { battery: Battery; driver: SimulatedDriver } | undefined;
  readonly #server: () => CommandServer;
  readonly #signer: ReadingSigner;
  #current: CommandServer | undefined;
  #port = 0;
  #nextInterval = 5_900_000n;

  constructor(options: MeterAgentHarnessOptions) {
    this.wallet = Wallet.createRandom();
    this.meter = this.wallet.address as Address;
    this.store = ReadingStore.open(join(options.dir, `${options.name}.db`), this.meter);
    this.#signer = new ReadingSigner(this.wallet, this.meter, READING_DOMAIN);
    this.battery =
      options.batteryCharge === undefined
        ? undefined
        : simulatedBattery(
            `${options.name}-battery`,
            {
              capacity: BATTERY_AH,
              stateOfCharge: options.batteryCharge,
              maxChargeCurrent: 50,
              maxDischargeCurrent: 50,
            },
            () => realClock.now(),
          );
    const executor = new CommandExecutor({
      store: this.store,
      battery: this.battery?.battery,
      clock: realClock,
    });
    this.#server = () =>
      new CommandServer({
        executor,
        chainId: READING_DOMAIN.chainId,
        controllers: options.controllers,
        port: this.#port,
        clock: realClock,
        log: pino({ level: "silent" }),
      });
  }

  /** The command server's base URL (fixed once first started, so it survives `down`/`up`). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async up(): Promise<void> {
    this.#current = this.#server();
    const url = await this.#current.listen();
    this.#port = Number(new URL(url).port);
  }

  /** The agent's network goes down; it keeps recording. */
  async down(): Promise<void> {
    await this.#current?.close();
    this.#current = undefined;
  }

  /** Signs and stores `count` more readings, as the recorder does at each interval boundary. */
  async record(count: number): Promise<MeterReading[]> {
    const start = this.#nextInterval;
    this.#nextInterval += BigInt(count);
    const intervals = Array.from({ length: count }, (_, i) => start + BigInt(i));
    return appendReadings(this.store, intervals, this.#signer);
  }

  /** Moves the battery's state of charge to `fraction`. */
  setCharge(fraction: number): void {
    const driver = this.battery?.driver;
    if (driver === undefined) throw new Error("this agent has no battery");
    driver.adjustCharge(BATTERY_AH * 2); // to full: the driver clamps
    driver.adjustCharge(-BATTERY_AH * (1 - fraction));
  }

  state() {
    return readMeterState(this.store);
  }

  /** The last command nonce the agent accepted from `controller`. */
  lastNonceFrom(controller: string): bigint {
    return readControllerNonce(this.store, controller as Address);
  }

  billingRates() {
    return readBillingRates(this.store);
  }

  async close(): Promise<void> {
    await this.down();
    this.store.close();
  }
}
