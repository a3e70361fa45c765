import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";

import * as grpc from "@grpc/grpc-js";
import {
  CommitError,
  connect,
  EndorseError,
  GatewayError,
  signers,
  StatusCode,
  type Contract,
  type Gateway,
} from "@hyperledger/fabric-gateway";

import { loadNetworkProfile, type NetworkProfile } from "./networkProfile.js";
import {
  SecureIdLedgerError,
  type CloseableEvents,
  type EvaluateOptions,
  type EventsOptions,
  type LedgerErrorKind,
  type SecureIdLedger,
  type SubmitOptions,
  type SubmitResult,
} from "./secureIdLedger.js";

/** gRPC deadlines per call kind, in milliseconds. */
export interface FabricTimeouts {
  evaluateMs: number;
  endorseMs: number;
  submitMs: number;
  commitStatusMs: number;
}

const DEFAULT_TIMEOUTS: FabricTimeouts = {
  evaluateMs: 5_000,
  endorseMs: 15_000,
  submitMs: 5_000,
  commitStatusMs: 60_000,
};

const STATUS_NAMES = new Map<number, string>(Object.entries(StatusCode).map(([name, code]) => [code, name]));

/**
 * The Secure ID ledger on a Fabric network, through the Fabric Gateway of each organisation's peer.
 *
 * A client acting as organisation A normally talks to A's own peer, whose Gateway gathers the MAJORITY
 * endorsements. A proposal aimed at one other organisation (a shard deposit with its transient shard, a
 * shard release) goes straight to that organisation's peer instead, with A's identity: the secret then
 * crosses no third peer, not even A's own.
 */
export class FabricLedger implements SecureIdLedger {
  readonly #profile: NetworkProfile;
  readonly #timeouts: FabricTimeouts;
  readonly #grpcClients = new Map<string, grpc.Client>();
  readonly #gateways = new Map<string, Gateway>();
  readonly #identities = new Map<
    string,
    Promise<{ credentials: Uint8Array; key: ReturnType<typeof createPrivateKey> }>
  >();

  constructor(profile: NetworkProfile, timeouts: Partial<FabricTimeouts> = {}) {
    this.#profile = profile;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  static async fromProfile(path: string, timeouts: Partial<FabricTimeouts> = {}): Promise<FabricLedger> {
    return new FabricLedger(await loadNetworkProfile(path), timeouts);
  }

  async submit(fn: string, args: readonly string[], options: SubmitOptions): Promise<SubmitResult> {
    const only = options.endorsingOrgs?.length === 1 ? options.endorsingOrgs[0] : undefined;
    const via = only && this.#profile.organizations[only] ? only : options.asOrg;
    const contract = await this.#contract(options.asOrg, via);
    let txId: string | undefined;
    try {
      const proposal = contract.newProposal(fn, {
        arguments: [...args],
        ...(options.transient ? { transientData: options.transient } : {}),
        ...(options.endorsingOrgs ? { endorsingOrganizations: options.endorsingOrgs } : {}),
      });
      txId = proposal.getTransactionId();
      const transaction = await proposal.endorse();
      const submitted = await transaction.submit();
      const status = await submitted.getStatus();
      if (!status.successful) {
        const name = STATUS_NAMES.get(status.code) ?? String(status.code);
        throw new SecureIdLedgerError("commit", `transaction ${txId} is invalid: ${name}`, {
          fn,
          org: via,
          txId,
          status: name,
        });
      }
      return { txId, blockNumber: status.blockNumber, result: submitted.getResult() };
    } catch (error) {
      throw toLedgerError(error, "endorse", fn, via, txId);
    }
  }

  async evaluate(fn: string, args: readonly string[], options: EvaluateOptions): Promise<Uint8Array> {
    const target = options.targetOrg;
    const via = target && this.#profile.organizations[target] ? target : options.asOrg;
    const contract = await this.#contract(options.asOrg, via);
    try {
      return await contract.evaluate(fn, {
        arguments: [...args],
        ...(target ? { endorsingOrganizations: [target] } : {}),
      });
    } catch (error) {
      throw toLedgerError(error, "evaluate", fn, target ?? via);
    }
  }

  async events(options: EventsOptions): Promise<CloseableEvents> {
    const gateway = await this.#gateway(options.asOrg, options.asOrg);
    const events = await gateway
      .getNetwork(this.#profile.channel)
      .getChaincodeEvents(this.#profile.chaincode, {
        ...(options.startBlock !== undefined ? { startBlock: options.startBlock } : {}),
        ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      });
    async function* mapped() {
      for await (const event of events) {
        yield {
          blockNumber: event.blockNumber,
          txId: event.transactionId,
          name: event.eventName,
          payload: event.payload,
        };
      }
    }
    const iterator = mapped();
    return { [Symbol.asyncIterator]: () => iterator, close: () => events.close() };
  }

  close(): Promise<void> {
    for (const gateway of this.#gateways.values()) gateway.close();
    for (const client of this.#grpcClients.values()) client.close();
    this.#gateways.clear();
    this.#grpcClients.clear();
    return Promise.resolve();
  }

  async #contract(asOrg: string, via: string): Promise<Contract> {
    const gateway = await this.#gateway(asOrg, via);
    return gateway
      .getNetwork(this.#profile.channel)
      .getContract(this.#profile.chaincode, this.#profile.contract);
  }

  async #gateway(asOrg: string, via: string): Promise<Gateway> {
    const cacheKey = `${asOrg}@${via}`;
    const cached = this.#gateways.get(cacheKey);
    if (cached) return cached;
    const { credentials, key } = await this.#identity(asOrg);
    const t = this.#timeouts;
    const deadline = (ms: number) => () => ({ deadline: Date.now() + ms });
    const gateway = connect({
      client: await this.#grpcClient(via),
      identity: { mspId: asOrg, credentials },
      signer: signers.newPrivateKeySigner(key),
      evaluateOptions: deadline(t.evaluateMs),
      endorseOptions: deadline(t.endorseMs),
      submitOptions: deadline(t.submitMs),
      commitStatusOptions: deadline(t.commitStatusMs),
    });
    this.#gateways.set(cacheKey, gateway);
    return gateway;
  }

  #identity(asOrg: string) {
    let identity = this.#identities.get(asOrg);
    if (!identity) {
      const files = this.#profile.organizations[asOrg]?.client;
      if (!files) throw new Error(`the network profile has no client identity for ${asOrg}`);
      identity = Promise.all([readFile(files.certPath), readFile(files.keyPath)]).then(([cert, keyPem]) => ({
        credentials: new Uint8Array(cert),
        key: createPrivateKey(keyPem),
      }));
      this.#identities.set(asOrg, identity);
    }
    return identity;
  }

  async #grpcClient(org: string): Promise<grpc.Client> {
    const cached = this.#grpcClients.get(org);
    if (cached) return cached;
    const peer = this.#profile.organizations[org]?.peer;
    if (!peer) throw new Error(`the network profile has no peer for ${org}`);
    const credentials = grpc.credentials.createSsl(await readFile(peer.tlsRootCertPath));
    const client = new grpc.Client(
      peer.endpoint,
      credentials,
      peer.hostnameOverride ? { "grpc.ssl_target_name_override": peer.hostnameOverride } : {},
    );
    this.#grpcClients.set(org, client);
    return client;
  }
}

/** Keeps the chaincode's message (and so its SecureId code) and says whether a retry may help. */
function toLedgerError(
  error: unknown,
  fallback: LedgerErrorKind,
  fn: string,
  org: string,
  txId?: string,
): SecureIdLedgerError {
  if (error instanceof SecureIdLedgerError) return error;
  if (error instanceof CommitError) {
    const status = STATUS_NAMES.get(error.code) ?? String(error.code);
    return new SecureIdLedgerError(
      "commit",
      error.message,
      { fn, org, txId: error.transactionId, status },
      { cause: error },
    );
  }
  if (error instanceof GatewayError) {
    const code: number = error.code;
    const kind: LedgerErrorKind =
      code === (grpc.status.UNAVAILABLE as number)
        ? "unavailable"
        : code === (grpc.status.DEADLINE_EXCEEDED as number)
          ? "timeout"
          : error instanceof EndorseError
            ? "endorse"
            : // SubmitError and CommitStatusError are exported as types only; their names tell them apart.
              error.name === "SubmitError" || error.name === "CommitStatusError"
              ? "commit"
              : fallback;
    const details = error.details.map((d) => `${d.mspId} ${d.address}: ${d.message}`);
    return new SecureIdLedgerError(
      kind,
      [error.message, ...details].join("; "),
      { fn, org, ...(txId ? { txId } : {}) },
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SecureIdLedgerError(fallback, message, { fn, org, ...(txId ? { txId } : {}) }, { cause: error });
}
