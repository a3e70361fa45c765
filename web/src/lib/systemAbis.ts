import {
  deliveryLedgerAbi,
  energyMarketAbi,
  forwardMarketAbi,
  meterRegistryAbi,
  optionMarketAbi,
  testDollarAbi,
} from "@gridmesh/contracts";
import type { Abi, Address } from "viem";

import type { Deployment } from "./deployment.js";

export interface SystemContract {
  name: string;
  abi: Abi;
}

/** The system's contracts by lower-case address, with the ABI to decode their calls and events. */
export function systemContracts(
  deployment: Deployment,
  token: Address | undefined,
): Map<string, SystemContract> {
  const c = deployment.contracts;
  const entries: [Address | null | undefined, string, Abi][] = [
    [c.energyMarket, "EnergyMarket", energyMarketAbi],
    [c.deliveryLedger, "DeliveryLedger", deliveryLedgerAbi],
    [c.meterRegistry, "MeterRegistry", meterRegistryAbi],
    [c.forwardMarket, "ForwardMarket", forwardMarketAbi],
    [c.optionMarket, "OptionMarket", optionMarketAbi],
    [token, "PaymentToken", testDollarAbi],
  ];
  return new Map(
    entries
      .filter((e): e is [Address, string, Abi] => e[0] !== null && e[0] !== undefined)
      .map(([address, name, abi]) => [address.toLowerCase(), { name, abi }]),
  );
}
