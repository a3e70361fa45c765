import { type TypedDataDomain, type TypedDataField, verifyTypedData } from "ethers";

/** Who signed an EIP-712 message, or undefined when the signature does not decode. */
export function typedDataSigner(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
  signature: string,
): string | undefined {
  try {
    return verifyTypedData(domain, types, value, signature);
  } catch {
    return undefined;
  }
}
