import { meterEnrollmentTypes, meterRegistryDomain, mutableTypes, type Address } from "@gridmesh/contracts";
import { getAddress, type Wallet } from "ethers";

import { DeviceIdentityError } from "./identityErrors.js";

export interface EnrollmentConsent {
  meter: string;
  owner: string;
  deviceId: string;
  registry: string;
  chainId: string;
  /** The meter key's EIP-712 MeterEnrollment signature: the owner passes it to MeterRegistry.enroll. */
  signature: string;
}

/**
 * The meter key's consent to be enrolled under `owner` with this device id. MeterRegistry.enroll needs
 * it because only the Pi holds the meter key; the owner submits it from its own account.
 */
export async function enrollmentConsent(
  meterKey: Wallet,
  p: { owner: string; deviceId: string; registry: string; chainId: number | bigint },
): Promise<EnrollmentConsent> {
  const owner = checksummed(p.owner, "owner");
  const registry = checksummed(p.registry, "registry");
  const domain = meterRegistryDomain(BigInt(p.chainId), registry as Address);
  const signature = await meterKey.signTypedData(domain, mutableTypes(meterEnrollmentTypes), {
    meter: meterKey.address,
    owner,
    deviceId: p.deviceId,
  });
  return {
    meter: meterKey.address,
    owner,
    deviceId: p.deviceId,
    registry,
    chainId: BigInt(p.chainId).toString(),
    signature,
  };
}

function checksummed(value: string, what: string): string {
  try {
    return getAddress(value);
  } catch {
    throw new DeviceIdentityError(`${what} ${value} is not an Ethereum address`);
  }
}
