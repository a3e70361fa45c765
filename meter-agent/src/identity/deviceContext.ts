import type { DeviceIdentity } from "@gridmesh/chaincode/client";

import type { GatewayIdentityClient } from "./gatewayIdentityClient.js";
import type { IdentityFiles } from "./identityFiles.js";

/** What every identity operation works with: the unlocked device key, its files and the gateway. */
export interface DeviceContext {
  device: DeviceIdentity;
  /** The agent's meter address, lower case: the identity binds the device key to it. */
  meter: string;
  files: IdentityFiles;
  gateway: GatewayIdentityClient;
  /** Seals the device's shard like the keys (the meter key's passphrase and scrypt cost). */
  secrets: { passphrase: string; scryptN: number };
  now?: () => Date;
}

export const nowIso = (ctx: DeviceContext): string => (ctx.now?.() ?? new Date()).toISOString();
