import { Contract, type ContractRunner } from "ethers";

import { meterRegistryAbi, type Address } from "@gridmesh/contracts";

import type { MeterActivity } from "./readingIntake.js";

/**
 * Meter activity read from the MeterRegistry, with the DeliveryLedger's rule: active from before
 * the interval's start, and not deactivated before its end. Asking the chain keeps the gateway from
 * storing readings the ledger would refuse.
 */
export function registryActivity(registry: Address, runner: ContractRunner): MeterActivity {
  const contract = new Contract(registry, meterRegistryAbi, runner);
  return {
    async activeThroughout(meter, startsAt, endsAt) {
      const [activeSince, deactivatedAt] = (await contract.getFunction("activePeriod")(meter)) as [
        bigint,
        bigint,
      ];
      return (
        activeSince !== 0n && activeSince <= startsAt && (deactivatedAt === 0n || deactivatedAt >= endsAt)
      );
    },
  };
}
