/**
 * The EIP-712 types GridMesh signs, in the shape viem and ethers both take (`types` without
 * EIP712Domain). The one TypeScript definition: the meter agent signs with it, the gateway and the
 * web app verify with it, and the contract tests check it against the contracts' type hashes.
 */

/** A meter's reading over one interval (contracts/readings/MeterReading.sol). */
export const meterReadingTypes = {
  MeterReading: [
    { name: "meter", type: "address" },
    { name: "interval", type: "uint64" },
    { name: "sequence", type: "uint64" },
    { name: "importStartWh", type: "uint64" },
    { name: "importEndWh", type: "uint64" },
    { name: "exportStartWh", type: "uint64" },
    { name: "exportEndWh", type: "uint64" },
    { name: "timestamp", type: "uint64" },
  ],
} as const;

/** The one scope a CustomerAccess grants (what the wallet signs and the gateway checks). */
export const CUSTOMER_SCOPE = "read my account";

/**
 * A wallet's short-lived permission to read its own account data from the gateway (its bills):
 * signed in the wallet, checked by the gateway, never sent to a chain. `scope` says what it is for.
 */
export const customerAccessTypes = {
  CustomerAccess: [
    { name: "account", type: "address" },
    { name: "scope", type: "string" },
    { name: "expires", type: "uint64" },
  ],
} as const;

/** The meter key's consent to be enrolled under an owner (MeterRegistry.enroll). */
export const meterEnrollmentTypes = {
  MeterEnrollment: [
    { name: "meter", type: "address" },
    { name: "owner", type: "address" },
    { name: "deviceId", type: "bytes32" },
  ],
} as const;

/** A verifier organisation's attestation of a Keychecker verdict (MeterRegistry.activate). */
export const meterAttestationTypes = {
  MeterAttestation: [
    { name: "deviceId", type: "bytes32" },
    { name: "meter", type: "address" },
    { name: "verdictTxId", type: "bytes32" },
  ],
} as const;

type Fields = Record<string, readonly { readonly name: string; readonly type: string }[]>;

/**
 * The same types with fresh, mutable field lists: ethers' `signTypedData` and `verifyTypedData`
 * take mutable arrays, and the definitions above are deeply readonly.
 */
export function mutableTypes<T extends Fields>(
  types: T,
): { [K in keyof T]: { name: string; type: string }[] } {
  const out = {} as { [K in keyof T]: { name: string; type: string }[] };
  for (const key of Object.keys(types) as (keyof T)[]) out[key] = types[key]!.map((f) => ({ ...f }));
  return out;
}

export type Address = `0x${string}`;
export type Hex = `0x${string}`;

export interface MeterReading {
  meter: Address;
  interval: bigint;
  sequence: bigint;
  importStartWh: bigint;
  importEndWh: bigint;
  exportStartWh: bigint;
  exportEndWh: bigint;
  timestamp: bigint;
}

export interface MeterEnrollment {
  meter: Address;
  owner: Address;
  deviceId: Hex;
}

export interface MeterAttestation {
  deviceId: Hex;
  meter: Address;
  verdictTxId: Hex;
}

export interface TypedDataDomain {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: Address;
}

/** Readings are signed for one DeliveryLedger on one chain, so they cannot be replayed elsewhere. */
export function deliveryLedgerDomain(chainId: bigint, ledger: Address): TypedDataDomain {
  return { name: "GridMesh DeliveryLedger", version: "1", chainId, verifyingContract: ledger };
}

export interface CustomerAccess {
  account: Address;
  scope: string;
  expires: bigint;
}

/** Customer access is signed for the gateways of one chain (no contract verifies it). */
export function gatewayDomain(chainId: bigint): Omit<TypedDataDomain, "verifyingContract"> {
  return { name: "GridMesh Gateway", version: "1", chainId };
}

/** Enrolments and attestations are signed for one MeterRegistry on one chain. */
export function meterRegistryDomain(chainId: bigint, registry: Address): TypedDataDomain {
  return { name: "GridMesh MeterRegistry", version: "1", chainId, verifyingContract: registry };
}
