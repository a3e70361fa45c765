import { type Signer, verifyTypedData } from "ethers";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  type Address,
  type Hex,
  type MeterReading,
  type SignedReading,
} from "@gridmesh/contracts";

/** Where readings are valid: one DeliveryLedger on one chain (the EIP-712 domain). */
export interface ReadingDomain {
  chainId: bigint;
  ledger: Address;
}

const types = mutableTypes(meterReadingTypes);

/** Signs readings with the meter's key, using the one shared EIP-712 definition. */
export class ReadingSigner {
  readonly #signer: Signer;
  readonly #domain: ReturnType<typeof deliveryLedgerDomain>;

  constructor(
    signer: Signer,
    readonly address: Address,
    domain: ReadingDomain,
  ) {
    this.#signer = signer;
    this.#domain = deliveryLedgerDomain(domain.chainId, domain.ledger);
  }

  async sign(reading: MeterReading): Promise<SignedReading> {
    if (reading.meter.toLowerCase() !== this.address.toLowerCase()) {
      throw new Error(
        `refusing to sign a reading for meter ${reading.meter} with the key of ${this.address}`,
      );
    }
    const signature = (await this.#signer.signTypedData(this.#domain, types, reading)) as Hex;
    return { reading, signature };
  }
}

/** The address that signed `signed.reading` for `domain`. */
export function recoverReadingSigner(signed: SignedReading, domain: ReadingDomain): Address {
  return verifyTypedData(
    deliveryLedgerDomain(domain.chainId, domain.ledger),
    types,
    signed.reading,
    signed.signature,
  ) as Address;
}
