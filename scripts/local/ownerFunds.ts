import { Contract, type ContractTransactionResponse, MaxUint256, parseEther, type Wallet } from "ethers";

import { energyMarketAbi, testDollarAbi } from "@gridmesh/contracts";

import type { ContractAddresses } from "./deployContracts.js";
import type { TradingLimits } from "./homeSpecs.js";

/** What every owner draws from TestDollar's faucet: its whole daily allowance in the local module. */
export const FAUCET_CLAIM = 10_000n * 10n ** 6n;
/** Gas money for a meter that places its owner's orders itself. */
export const METER_GAS_ETH = parseEther("1");
const YEAR_SECONDS = 365n * 24n * 3600n;

/** The on-chain delegation a home's automatic trading runs under. */
export interface Delegation extends TradingLimits {
  /** Unix seconds (simulated). */
  expiry: bigint;
}

/** Sends `method(...args)` from the contract's runner and waits for it to be mined (it throws on a revert). */
export async function transact(contract: Contract, method: string, ...args: unknown[]): Promise<void> {
  const tx = (await contract.getFunction(method)(...args)) as ContractTransactionResponse;
  await tx.wait();
}

/** Draws the owner's TestDollars from the faucet, so it can escrow bids and post collateral. */
export async function fundOwner(owner: Wallet, contracts: ContractAddresses): Promise<void> {
  const token = new Contract(contracts.testDollar, testDollarAbi, owner);
  await transact(token, "claim", FAUCET_CLAIM);
}

/**
 * Lets the home's meter agent trade for its owner within limits (MarketDelegation): the owner
 * authorises the meter's address with a sell floor, a buy ceiling, a volume per interval and an
 * expiry a simulated year out, and approves the market to draw deposits from its TestDollars (the
 * delegate never holds them).
 */
export async function delegateTrading(
  owner: Wallet,
  meter: string,
  limits: TradingLimits,
  contracts: ContractAddresses,
  simNowSeconds: bigint,
): Promise<Delegation> {
  const delegation: Delegation = { ...limits, expiry: simNowSeconds + YEAR_SECONDS };
  const market = new Contract(contracts.energyMarket, energyMarketAbi, owner);
  const token = new Contract(contracts.testDollar, testDollarAbi, owner);
  await transact(
    market,
    "authorizeDelegate",
    meter,
    delegation.maxWhPerInterval,
    delegation.minSellPricePerKwh,
    delegation.maxBuyPricePerKwh,
    delegation.expiry,
  );
  await transact(token, "approve", contracts.energyMarket, MaxUint256);
  return delegation;
}

/**
 * Gas money for the meter's own order transactions, sent to every meter: each agent runs the
 * automatic trader, which places orders only while the owner delegates to the meter (an owner who
 * trades by hand can set a rule in the web app later, and the agent starts at once).
 */
export async function fundMeterGas(owner: Wallet, meter: string): Promise<void> {
  await (await owner.sendTransaction({ to: meter, value: METER_GAS_ETH })).wait();
}
