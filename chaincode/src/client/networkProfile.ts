import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

import { z } from "zod";

/**
 * How a client reaches the Fabric network: the `network.json` that `fabric:up` writes (scripts/fabric/
 * profile.ts). Only what a client needs is read, the rest (orderer, admin identities, versions) is left
 * alone: per organisation, its peer's Gateway endpoint with the TLS CA and server name, and the client
 * identity applications use. Relative paths are taken from the profile's directory.
 */
const endpointSchema = z.object({
  /** host:port of the peer's gRPC service, Fabric Gateway enabled. */
  endpoint: z.string().regex(/^[^\s:]+:\d{1,5}$/, "expected host:port"),
  tlsRootCertPath: z.string().min(1),
  /** The server name to verify the TLS certificate against (grpc.ssl_target_name_override). */
  hostnameOverride: z.string().min(1).optional(),
});

const identitySchema = z.object({ certPath: z.string().min(1), keyPath: z.string().min(1) });

export const networkProfileSchema = z.object({
  channel: z.string().min(1),
  chaincode: z.string().min(1),
  contract: z.string().min(1),
  organizations: z.record(
    z.string(),
    z.object({ mspId: z.string().min(1), peer: endpointSchema, client: identitySchema }),
  ),
});

export type NetworkProfile = z.infer<typeof networkProfileSchema>;

/** Reads and validates a profile, reporting every problem by path, and makes its file paths absolute. */
export async function loadNetworkProfile(path: string): Promise<NetworkProfile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new Error(`network profile ${path}: cannot read it as JSON`, { cause });
  }
  const parsed = networkProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`network profile ${path}: ${problems.join("; ")}`);
  }
  const base = dirname(resolve(path));
  const profile = parsed.data;
  for (const [key, org] of Object.entries(profile.organizations)) {
    if (org.mspId !== key)
      throw new Error(`network profile ${path}: organizations.${key} has mspId ${org.mspId}`);
    org.peer.tlsRootCertPath = resolve(base, org.peer.tlsRootCertPath);
    org.client.certPath = resolve(base, org.client.certPath);
    org.client.keyPath = resolve(base, org.client.keyPath);
  }
  return profile;
}
