import {
  deliveryLedgerDomain,
  meterReadingTypes,
  signedReadingFromJson,
  type Address,
  type SignedReading,
} from "@gridmesh/contracts";
import { recoverTypedDataAddress } from "viem";

export type ReadingVerdict =
  | { valid: true; reading: SignedReading; signer: Address }
  | { valid: false; reason: string; reading?: SignedReading; signer?: Address };

/**
 * Checks a signed reading as an auditor would, with no trust in whoever relayed it: it must be
 * well formed (the shared wire form), and its EIP-712 signature for this chain's DeliveryLedger
 * must recover to the meter it names. Whether that meter is registered is the caller's second
 * question (it needs the chain).
 */
export async function verifySignedReading(
  json: unknown,
  domain: { chainId: number; ledger: Address },
): Promise<ReadingVerdict> {
  let signed: SignedReading;
  try {
    signed = signedReadingFromJson(json);
  } catch (error) {
    return { valid: false, reason: `not a signed reading: ${describeParseError(error)}` };
  }
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      domain: deliveryLedgerDomain(BigInt(domain.chainId), domain.ledger),
      types: meterReadingTypes,
      primaryType: "MeterReading",
      message: signed.reading,
      signature: signed.signature,
    });
  } catch (error) {
    return {
      valid: false,
      reason: `the signature cannot be read: ${(error as Error).message}`,
      reading: signed,
    };
  }
  if (signer.toLowerCase() !== signed.reading.meter.toLowerCase()) {
    return {
      valid: false,
      reason: `signed by ${signer}, not by meter ${signed.reading.meter}: the reading was altered or forged`,
      reading: signed,
      signer,
    };
  }
  return { valid: true, reading: signed, signer };
}

function describeParseError(error: unknown): string {
  const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
  if (issues !== undefined)
    return issues.map((i) => `${i.path.map(String).join(".")} ${i.message}`).join("; ");
  return error instanceof Error ? error.message : String(error);
}
