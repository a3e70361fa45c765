"use client";

import { testDollarAbi } from "@gridmesh/contracts";
import type { Abi, Address } from "viem";
import { useReadContracts } from "wagmi";

import { type DeliveryEvent } from "../lib/deliveryMath.js";
import { useContractEventLog } from "./useContractEvents.js";

/** ScheduledDelivery's settlement events, read with each market's own creation event. */
const SETTLEMENT_EVENTS = ["DeliverySettled", "ScheduleCompleted"] as const;

export interface DeliveryMarketData {
  /** The market's creation events (ForwardProposed, OptionWritten), oldest first. */
  created: DeliveryEvent[];
  /** Every settlement event, for settlementOf. */
  settlements: DeliveryEvent[];
  /** Per view function in `perId`, its result for each created id, in the order of `created`. */
  perId: unknown[][];
  penaltyPerKwh: bigint;
  /** What the market may take from the user's tokens now. */
  allowance: bigint;
  /** The user's credited payouts in this market (PullPayments), to withdraw. */
  withdrawable: bigint;
}

/**
 * What a forward or option market's page reads for the user, straight from the chain: its
 * contracts from their creation events, `perId` views of each (getSchedule, …), and the market's
 * penalty, the user's allowance to it and the payouts credited to the user there.
 */
export function useDeliveryMarket(
  address: Address | null,
  abi: Abi,
  createdEvent: string,
  perId: readonly string[],
  me: Address | undefined,
  token: Address | undefined,
): { events: ReturnType<typeof useContractEventLog>; data: DeliveryMarketData | undefined } {
  const events = useContractEventLog(address, abi, [createdEvent, ...SETTLEMENT_EVENTS]);
  const created = (events.data ?? []).filter((e) => e.eventName === createdEvent);
  const ids = created.map((e) => e.args.id as bigint);
  const market = { address: address!, abi };
  const { data: chain } = useReadContracts({
    contracts: [
      ...perId.flatMap((functionName) => ids.map((id) => ({ ...market, functionName, args: [id] }))),
      { ...market, functionName: "penaltyPerKwh" },
      { ...market, functionName: "balanceOf", args: [me!] },
      { address: token, abi: testDollarAbi, functionName: "allowance", args: [me!, address!] },
    ],
    allowFailure: false,
    query: {
      enabled: address !== null && me !== undefined && token !== undefined && events.data !== undefined,
      refetchInterval: 4_000,
    },
  });
  const n = ids.length;
  // A read started before the last event arrived has fewer results than there are ids now.
  if (chain === undefined || chain.length !== perId.length * n + 3) return { events, data: undefined };
  const rest = chain.slice(perId.length * n) as bigint[];
  return {
    events,
    data: {
      created,
      settlements: (events.data ?? []).filter((e) => e.eventName !== createdEvent),
      perId: perId.map((_, k) => chain.slice(k * n, (k + 1) * n)),
      penaltyPerKwh: rest[0]!,
      withdrawable: rest[1]!,
      allowance: rest[2]!,
    },
  };
}
