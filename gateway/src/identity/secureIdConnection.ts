import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

import {
  EmbeddedLedger,
  FabricLedger,
  loadNetworkProfile,
  type SecureIdLedger,
} from "@gridmesh/chaincode/client";

import type { GatewayConfig } from "../config/config.js";

/** The ledger, and the channel and chaincode its events are recorded under. */
export interface SecureIdConnection {
  kind: "embedded" | "fabric";
  ledger: SecureIdLedger;
  channel: string;
  chaincode: string;
}

/** What the embedded ledger calls its channel and chaincode: the names the Fabric network uses. */
const EMBEDDED_CHANNEL = "gridmesh";
const EMBEDDED_CHAINCODE = "secureid";

/**
 * Opens the configured Secure ID ledger. The embedded one gets one simulated peer per organisation the
 * gateway acts for: the owner (utility) and each verifier whose attestor runs here; its SQLite file
 * keeps every identity across restarts. On Fabric, those organisations' client identities come from
 * the network profile.
 */
export async function openSecureIdConnection(
  identity: GatewayConfig["identity"],
  verifierMsps: readonly string[],
): Promise<SecureIdConnection> {
  if (identity.ledger.kind === "fabric") {
    const profile = await loadNetworkProfile(identity.ledger.profile);
    const missing = [identity.ownerMsp, ...verifierMsps].filter((msp) => !profile.organizations[msp]);
    if (missing.length > 0) {
      throw new Error(
        `network profile ${identity.ledger.profile} has no organisation ${missing.join(", ")}; ` +
          `it has ${Object.keys(profile.organizations).join(", ")}`,
      );
    }
    return {
      kind: "fabric",
      ledger: new FabricLedger(profile),
      channel: profile.channel,
      chaincode: profile.chaincode,
    };
  }
  await mkdir(dirname(identity.ledger.file), { recursive: true });
  return {
    kind: "embedded",
    ledger: new EmbeddedLedger({
      orgs: [identity.ownerMsp, ...verifierMsps],
      path: identity.ledger.file,
      channel: EMBEDDED_CHANNEL,
    }),
    channel: EMBEDDED_CHANNEL,
    chaincode: EMBEDDED_CHAINCODE,
  };
}
