import { Contract, type Provider } from "ethers";

import {
  energyMarketAbi,
  intervalAt,
  intervalTimes,
  meterRegistryAbi,
  nextOpenInterval,
  testDollarAbi,
  type Address,
  type IntervalSchedule,
} from "@gridmesh/contracts";

import type { MarketSnapshot } from "./decideOrder.js";

export interface MarketReaderOptions {
  provider: Provider;
  market: Address;
  owner: Address;
  meter: Address;
}

/** The market's fixed parts, read once: its interval schedule, registry and payment token. */
interface MarketFacts {
  schedule: IntervalSchedule;
  registry: Contract;
  token: Contract;
}

/**
 * Reads what the trader decides on from the chain: the market's schedule, and for one interval the
 * owner's delegation to the meter and its use, the pause switch, the meter's registration, the
 * owner's payment-token balance and allowance and the meter's gas.
 */
export class MarketReader {
  readonly #o: MarketReaderOptions;
  readonly #market: Contract;
  #facts: Promise<MarketFacts> | undefined;

  constructor(options: MarketReaderOptions) {
    this.#o = options;
    this.#market = new Contract(options.market, energyMarketAbi, options.provider);
  }

  async schedule(): Promise<IntervalSchedule> {
    return (await this.#marketFacts()).schedule;
  }

  /**
   * Chain time, in seconds: the later of the latest block's and `clockSeconds`. A quiet chain's
   * latest block can be old, and a local chain can be moved ahead of the wall clock; a transaction
   * sent now is mined no earlier than either.
   */
  async now(clockSeconds: number): Promise<bigint> {
    const block = await this.#o.provider.getBlock("latest");
    return BigInt(Math.max(block?.timestamp ?? 0, Math.floor(clockSeconds)));
  }

  /**
   * The interval to trade for at `nowSeconds`: `ahead` intervals after the current one, or the
   * first whose gate is still open if that one's has closed.
   */
  async targetInterval(
    nowSeconds: bigint,
    ahead: number,
  ): Promise<{ interval: bigint; gateClosure: bigint }> {
    const schedule = await this.schedule();
    const now = Number(nowSeconds);
    const interval = Math.max(intervalAt(schedule, now) + ahead, nextOpenInterval(schedule, now));
    return { interval: BigInt(interval), gateClosure: BigInt(intervalTimes(schedule, interval).gateClosure) };
  }

  async snapshot(interval: bigint, gateClosure: bigint, nowSeconds: bigint): Promise<MarketSnapshot> {
    const { owner, meter, market, provider } = this.#o;
    const { registry, token } = await this.#marketFacts();
    const m = this.#market;
    const [delegation, usedWh, paused, penaltyPerKwh, meterOwner, meterActive, balance, allowance, gas] =
      await Promise.all([
        m.getFunction("delegationOf")(owner, meter) as Promise<MarketSnapshot["delegation"]>,
        m.getFunction("delegatedWh")(owner, meter, interval) as Promise<bigint>,
        m.getFunction("paused")() as Promise<boolean>,
        m.getFunction("penaltyPerKwh")() as Promise<bigint>,
        registry.getFunction("ownerOf")(meter) as Promise<Address>,
        registry.getFunction("isActive")(meter) as Promise<boolean>,
        token.getFunction("balanceOf")(owner) as Promise<bigint>,
        token.getFunction("allowance")(owner, market) as Promise<bigint>,
        provider.getBalance(meter),
      ]);
    return {
      nowSeconds,
      interval,
      gateClosure,
      paused,
      owner,
      // A struct comes back as an ethers Result; copied to a plain object by field name.
      delegation: {
        maxWhPerInterval: BigInt(delegation.maxWhPerInterval),
        minSellPricePerKwh: BigInt(delegation.minSellPricePerKwh),
        maxBuyPricePerKwh: BigInt(delegation.maxBuyPricePerKwh),
        expiry: BigInt(delegation.expiry),
      },
      usedWh,
      meterOwner,
      meterActive,
      penaltyPerKwh,
      ownerBalance: balance,
      ownerAllowance: allowance,
      meterGasWei: gas,
    };
  }

  #marketFacts(): Promise<MarketFacts> {
    // Immutable on-chain, so read once; a failed read is tried again next time.
    this.#facts ??= this.#readFacts().catch((e: unknown) => {
      this.#facts = undefined;
      throw e;
    });
    return this.#facts;
  }

  async #readFacts(): Promise<MarketFacts> {
    const m = this.#market;
    const [intervalSeconds, gateClosureSeconds, registry, token] = await Promise.all([
      m.getFunction("intervalSeconds")() as Promise<bigint>,
      m.getFunction("gateClosureSeconds")() as Promise<bigint>,
      m.getFunction("registry")() as Promise<string>,
      m.getFunction("token")() as Promise<string>,
    ]);
    return {
      schedule: { intervalSeconds: Number(intervalSeconds), gateClosureSeconds: Number(gateClosureSeconds) },
      registry: new Contract(registry, meterRegistryAbi, this.#o.provider),
      // Only the ERC-20 functions every payment token has are called (balanceOf, allowance).
      token: new Contract(token, testDollarAbi, this.#o.provider),
    };
  }
}
