import { Contract, type ContractRunner } from "ethers";

import { meterRegistryAbi, type Address } from "@gridmesh/contracts";

import type { MeterActivity } from "./readingIntake.js";

export interface RegistryActivityOptions {
  /**
   * How long an ACTIVE period read from the chain is reused (default 15 s): an agent back from an
   * outage sends hundreds of its readings at once, which need one chain call, not hundreds. Only
   * active periods are kept, so a meter activated a moment ago is never refused from a stale answer;
   * a deactivation inside the window costs at most a reading the ledger later refuses.
   */
  cacheMs?: number;
  now?: () => number;
}

/**
 * Meter activity read from the MeterRegistry, with the DeliveryLedger's rule: active from before
 * the interval's start, and not deactivated before its end. Asking the chain keeps the gateway from
 * storing readings the ledger would refuse.
 */
export function registryActivity(
  registry: Address,
  runner: ContractRunner,
  options: RegistryActivityOptions = {},
): MeterActivity {
  const contract = new Contract(registry, meterRegistryAbi, runner);
  const cacheMs = options.cacheMs ?? 15_000;
  const now = options.now ?? Date.now;
  const active = new Map<string, { activeSince: bigint; readAt: number }>();

  async function period(meter: Address): Promise<[bigint, bigint]> {
    const key = meter.toLowerCase();
    const cached = active.get(key);
    if (cached !== undefined && now() - cached.readAt < cacheMs) return [cached.activeSince, 0n];
    const [activeSince, deactivatedAt] = (await contract.getFunction("activePeriod")(meter)) as [
      bigint,
      bigint,
    ];
    if (activeSince !== 0n && deactivatedAt === 0n) active.set(key, { activeSince, readAt: now() });
    else active.delete(key);
    return [activeSince, deactivatedAt];
  }

  return {
    async activeThroughout(meter, startsAt, endsAt) {
      const [activeSince, deactivatedAt] = await period(meter);
      return (
        activeSince !== 0n && activeSince <= startsAt && (deactivatedAt === 0n || deactivatedAt >= endsAt)
      );
    },
  };
}
