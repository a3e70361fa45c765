import type { SecureIdClient } from "./secureIdClient.js";

/**
 * Registers the client's organisation as a verifier with `attestationSigner`, unless it already is with
 * that signer: safe to call at every start of a verifier's service or of the embedded ledger.
 */
export async function ensureVerifierOrg(client: SecureIdClient, attestationSigner: string): Promise<void> {
  const signer = attestationSigner.toLowerCase();
  const known = await client.getVerifierOrgs();
  if (known.some((o) => o.mspId === client.asOrg && o.attestationSigner === signer)) return;
  await client.registerVerifierOrg(signer);
}
