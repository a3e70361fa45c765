"use client";

import { energyMarketAbi, testDollarAbi } from "@gridmesh/contracts";
import type { Address } from "viem";
import { useReadContract, useReadContracts } from "wagmi";

import { useDeployment } from "../components/Providers.js";
import { formatMoney, formatUnits } from "../lib/units.js";

export interface TokenInfo {
  address: Address;
  symbol: string;
  decimals: number;
  /** An amount in base units as money: "1.20 TUSD". */
  money: (baseUnits: bigint | string) => string;
  /** A price in base units per kWh: "0.12 TUSD/kWh". */
  price: (baseUnitsPerKwh: bigint | string) => string;
}

/** The market's payment token: its address from the market, its symbol and decimals from itself. */
export function useToken(): TokenInfo | undefined {
  const { contracts } = useDeployment();
  const { data: address } = useReadContract({
    address: contracts.energyMarket,
    abi: energyMarketAbi,
    functionName: "token",
    query: { staleTime: Infinity },
  });
  const { data } = useReadContracts({
    contracts: [
      { address, abi: testDollarAbi, functionName: "symbol" },
      { address, abi: testDollarAbi, functionName: "decimals" },
    ],
    allowFailure: false,
    query: { enabled: address !== undefined, staleTime: Infinity },
  });
  if (address === undefined || data === undefined) return undefined;
  const [symbol, decimals] = data;
  return {
    address,
    symbol,
    decimals,
    money: (v) => formatMoney(BigInt(v), decimals, symbol),
    price: (v) => `${formatUnits(BigInt(v), decimals, 2)} ${symbol}/kWh`,
  };
}
