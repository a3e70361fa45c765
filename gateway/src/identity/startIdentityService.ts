import type { AttestationSigner } from "@gridmesh/chaincode/client";
import type { TypedDataDomain } from "@gridmesh/contracts";
import type { Contract } from "ethers";

import type { TransactionSender } from "../chain/transactionSender.js";
import type { Logger } from "../common/logger.js";
import type { GatewayConfig } from "../config/config.js";
import type { Database } from "../store/index.js";
import { IdentityService } from "./identityService.js";
import { openSecureIdConnection } from "./secureIdConnection.js";
import { loadVerifierKeys } from "./verifierKeystores.js";

export interface StartIdentityServiceParameters {
  config: GatewayConfig["identity"];
  db: Database;
  /** MeterRegistry, connected to the gateway's signer when it has one. */
  registry: Contract;
  registryDomain: TypedDataDomain;
  sender: TransactionSender | undefined;
  logger: Logger;
  /** Attestation keys by verifier MSP instead of the configured keystores (tests: Hardhat's signers). */
  attestationKeys?: ReadonlyMap<string, AttestationSigner>;
}

/** Decrypts the attestation keys, opens the configured Secure ID ledger and starts the identity service. */
export async function startIdentityService(p: StartIdentityServiceParameters): Promise<IdentityService> {
  const attestationKeys = p.attestationKeys ?? (await loadVerifierKeys(p.config.verifiers));
  const connection = await openSecureIdConnection(p.config, [...attestationKeys.keys()]);
  try {
    const service = await IdentityService.start({
      db: p.db,
      connection,
      ownerMsp: p.config.ownerMsp,
      attestationKeys,
      registry: p.registry,
      registryDomain: p.registryDomain,
      sender: p.sender,
      logger: p.logger,
    });
    p.logger.info(
      { ledger: connection.kind, channel: connection.channel, attestors: [...attestationKeys.keys()] },
      "Secure ID identity service started",
    );
    return service;
  } catch (e) {
    await connection.ledger.close();
    throw e;
  }
}
