"use client";

import { useConnection } from "wagmi";

import type { Device, Page } from "../lib/gatewayTypes.js";
import { useGateway } from "./useGateway.js";

/**
 * The connected account's meters as the gateway's registry projection knows them, and those of
 * them active (the ones that may trade).
 */
export function useMyMeters() {
  const { address } = useConnection();
  const query = useGateway<Page<Device>>(
    address === undefined ? null : `/v1/devices?owner=${address.toLowerCase()}&limit=100`,
    10_000,
  );
  const active = query.data?.items.filter((m) => m.status === "active") ?? [];
  return { address, active, ...query };
}
