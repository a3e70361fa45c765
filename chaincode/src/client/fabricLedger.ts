import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

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

/** gRPC deadlines per call kind, and how long to wait for a lagging peer, in milliseconds. */
export interface FabricTimeouts {
  evaluateMs: number;
  endorseMs: number;
  submitMs: number;
  commitStatusMs: number;
  catchUpMs: number;
  /** How long a call that found its peer's connection down waits for it to come back, then is made once more. */
  reconnectMs: number;
}

/** Where a submitted transaction spent its time: endorsement, handing it to the orderer, waiting for its commit. */
export interface SubmitTiming {
  fn: string;
  txId: string;
  endorseMs: number;
  submitMs: number;
  commitMs: number;
}

export interface FabricLedgerOptions extends Partial<FabricTimeouts> {
  /** Called after each committed transaction (benchmarks split a verification's latency with it). */
  onSubmitted?: (timing: SubmitTiming) => void;
}

const DEFAULT_TIMEOUTS: FabricTimeouts = {
  evaluateMs: 5_000,
  endorseMs: 15_000,
  submitMs: 5_000,
  commitStatusMs: 60_000,
  catchUpMs: 10_000,
  reconnectMs: 3_000,
};

/**
 * A restarted peer is reconnected to within a second rather than after gRPC's default backoff (up to
 * two minutes): until then every call to it fails at once without being sent.
 */
const CHANNEL_OPTIONS = { "grpc.initial_reconnect_backoff_ms": 250, "grpc.max_reconnect_backoff_ms": 1_000 };
/** gRPC's words for a call that failed before it was sent: the client had no connection to the peer. */
const NOT_CONNECTED = /No connection established/;

/** How often a lagging peer's height is asked for while waiting for it to catch up. */
const CATCH_UP_POLL_MS = 15;

const STATUS_NAMES = new Map<number, string>(Object.entries(StatusCode).map(([name, code]) => [code, name]));

/**
 * The Secure ID ledger on a Fabric network, through the Fabric Gateway of each organisation's peer.
 *
 * A client acting as organisation A normally talks to A's own peer, whose Gateway gathers the MAJORITY
 * endorsements. A proposal aimed at one other organisation (a shard deposit with its transient shard, a
 * shard release) goes straight to that organisation's peer instead, with A's identity: the secret then
 * crosses no third peer, not even A's own.
 *
 * A client reads its own writes on every peer, as on the embedded ledger. A transaction counts as done when
 * the peer of the gateway that submitted it has committed it; the other peers commit the same block a
 * little later (each pulls blocks from the orderer). A proposal reaching one of them first - a shard
 * release right after RequestVerification, a deposit right after SealIdentity - would run against state
 * without the client's last transaction: refused (no such request, not sealed) or, worse, answered from
 * before a revocation. So the ledger tracks the block of its newest transaction and the heights it knows
 * of each peer: a proposal for one peer waits until that peer has reached the block (one height query,
 * usually answered at once), and a transaction the gateway endorses on peers of its choice is run once
 * more if a lagging peer refused it or a read conflict invalidated it.
 */
export class FabricLedger implements SecureIdLedger {
  readonly #profile: NetworkProfile;
  readonly #timeouts: FabricTimeouts;
  readonly #onSubmitted: ((timing: SubmitTiming) => void) | undefined;
  /** One past the newest block holding a transaction of this client: what every peer must reach for it. */
  #minHeight = 0n;
  /** The height each organisation's peer was last known to have. */
  readonly #heights = new Map<string, bigint>();
  readonly #grpcClients = new Map<string, grpc.Client>();
  readonly #gateways = new Map<string, Gateway>();
  readonly #identities = new Map<
    string,
    Promise<{ credentials: Uint8Array; key: ReturnType<typeof createPrivateKey> }>
  >();

  constructor(profile: NetworkProfile, options: FabricLedgerOptions = {}) {
    const { onSubmitted, ...timeouts } = options;
    this.#profile = profile;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
    this.#onSubmitted = onSubmitted;
  }

  static async fromProfile(path: string, options: FabricLedgerOptions = {}): Promise<FabricLedger> {
    return new FabricLedger(await loadNetworkProfile(path), options);
  }

  async submit(fn: string, args: readonly string[], options: SubmitOptions): Promise<SubmitResult> {
    const only = options.endorsingOrgs?.length === 1 ? options.endorsingOrgs[0] : undefined;
    const via = only && this.#profile.organizations[only] ? only : options.asOrg;
    const contract = await this.#contract(options.asOrg, via);
    const attempt = async (): Promise<SubmitResult> => {
      let txId: string | undefined;
      try {
        const started = performance.now();
        const proposal = contract.newProposal(fn, {
          arguments: [...args],
          ...(options.transient ? { transientData: options.transient } : {}),
          ...(options.endorsingOrgs ? { endorsingOrganizations: options.endorsingOrgs } : {}),
        });
        txId = proposal.getTransactionId();
        const transaction = await proposal.endorse();
        const endorsed = performance.now();
        const submitted = await transaction.submit();
        const sent = performance.now();
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
        this.#committed(via, status.blockNumber);
        this.#onSubmitted?.({
          fn,
          txId,
          endorseMs: endorsed - started,
          submitMs: sent - endorsed,
          commitMs: performance.now() - sent,
        });
        return { txId, blockNumber: status.blockNumber, result: submitted.getResult() };
      } catch (error) {
        throw toLedgerError(error, "endorse", fn, via, txId);
      }
    };
    if (only) {
      await this.#upToDate(options.asOrg, [via]);
      return this.#retriedWhenReconnected(via, attempt);
    }
    return this.#retriedWhenStale(options.asOrg, () => this.#retriedWhenReconnected(via, attempt));
  }

  async evaluate(fn: string, args: readonly string[], options: EvaluateOptions): Promise<Uint8Array> {
    const target = options.targetOrg;
    const via = target && this.#profile.organizations[target] ? target : options.asOrg;
    const contract = await this.#contract(options.asOrg, via);
    await this.#upToDate(options.asOrg, [via]);
    return this.#retriedWhenReconnected(via, async () => {
      try {
        return await contract.evaluate(fn, {
          arguments: [...args],
          ...(target ? { endorsingOrganizations: [target] } : {}),
        });
      } catch (error) {
        throw toLedgerError(error, "evaluate", fn, target ?? via);
      }
    });
  }

  /**
   * Runs `attempt`; if it failed because this client had no connection to the peer it goes through
   * (a peer just restarted), nothing was sent: waits up to reconnectMs for the connection and runs
   * it once more. A peer still down is reported as the first failure said.
   */
  async #retriedWhenReconnected<T>(via: string, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (!(
        error instanceof SecureIdLedgerError &&
        error.kind === "unavailable" &&
        NOT_CONNECTED.test(error.message)
      ))
        throw error;
      const client = await this.#grpcClient(via);
      const deadline = Date.now() + this.#timeouts.reconnectMs;
      const connected = await new Promise<boolean>((resolve) =>
        client.waitForReady(deadline, (failure) => resolve(failure === undefined)),
      );
      if (!connected) throw error;
      return attempt();
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

  /** Waits until these peers have committed this client's newest transaction (those known to have, at once). */
  async #upToDate(asOrg: string, orgs: readonly string[]): Promise<void> {
    const needed = this.#minHeight;
    await Promise.all(
      orgs
        .filter((org) => (this.#heights.get(org) ?? 0n) < needed)
        .map((org) => this.#catchUp(asOrg, org, needed)),
    );
  }

  /**
   * Runs a transaction that the gateway endorses on peers of its choice. If a peer not known to be up to
   * date refused it, or it was ordered but invalidated by a read conflict (endorsers that lagged all read
   * the same old state), nothing was written: wait for the peers and run it once more, so that it is judged
   * on the state this client last saw. Unreachable peers and timeouts are not retried here.
   */
  async #retriedWhenStale(asOrg: string, attempt: () => Promise<SubmitResult>): Promise<SubmitResult> {
    const needed = this.#minHeight;
    const known = new Map(this.#heights);
    const stale = (org: string) => (known.get(org) ?? 0n) < needed;
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof SecureIdLedgerError)) throw error;
      const suspects =
        error.kind === "endorse"
          ? refusingOrgs(error)
          : error.kind === "commit" && error.retryable
            ? Object.keys(this.#profile.organizations)
            : [];
      const lagging = [...new Set(suspects)].filter((org) => this.#profile.organizations[org] && stale(org));
      if (lagging.length === 0) throw error;
      await Promise.all(lagging.map((org) => this.#catchUp(asOrg, org, needed)));
      return attempt();
    }
  }

  #committed(org: string, blockNumber: bigint): void {
    if (blockNumber + 1n > this.#minHeight) this.#minHeight = blockNumber + 1n;
    if (blockNumber + 1n > (this.#heights.get(org) ?? 0n)) this.#heights.set(org, blockNumber + 1n);
  }

  /** Waits until the peer reaches `height`; gives up at once if it cannot be asked (down), else after catchUpMs. */
  async #catchUp(asOrg: string, org: string, height: bigint): Promise<void> {
    const deadline = Date.now() + this.#timeouts.catchUpMs;
    for (;;) {
      const reached = await this.#height(asOrg, org).catch(() => undefined);
      if (reached === undefined || reached >= height || Date.now() >= deadline) return;
      await delay(CATCH_UP_POLL_MS);
    }
  }

  /** The peer's block height, from the query system chaincode's chain info (on that peer alone). */
  async #height(asOrg: string, org: string): Promise<bigint> {
    const gateway = await this.#gateway(asOrg, org);
    const info = await gateway
      .getNetwork(this.#profile.channel)
      .getContract(QUERY_SYSTEM_CHAINCODE)
      .evaluate("GetChainInfo", { arguments: [this.#profile.channel], endorsingOrganizations: [org] });
    const height = chainInfoHeight(info);
    if (height > (this.#heights.get(org) ?? 0n)) this.#heights.set(org, height);
    return height;
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
    const client = new grpc.Client(peer.endpoint, credentials, {
      ...CHANNEL_OPTIONS,
      ...(peer.hostnameOverride ? { "grpc.ssl_target_name_override": peer.hostnameOverride } : {}),
    });
    this.#grpcClients.set(org, client);
    return client;
  }
}

const QUERY_SYSTEM_CHAINCODE = "qscc";

/**
 * The height in qscc's GetChainInfo answer, a protobuf `common.BlockchainInfo` whose field 1 is the
 * height (uint64, varint). Read by hand: one varint does not justify a dependency on Fabric's protos.
 */
export function chainInfoHeight(info: Uint8Array): bigint {
  if (info[0] !== 0x08) throw new Error("GetChainInfo answer does not start with the height field");
  let height = 0n;
  for (let i = 1, shift = 0n; i < info.length && i <= 10; i++, shift += 7n) {
    const byte = info[i]!;
    height |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return height;
  }
  throw new Error("GetChainInfo answer has a truncated height");
}

/** How a Fabric peer's gateway reports an endorser it could not reach. */
const UNREACHABLE_PEER = /code = Unavailable|connection refused|connection error/;
const NO_PEER_COMBINATION = /no (peer )?combination of peers can be derived|no peer combination can satisfy/i;

/** The organisations whose peers the gateway reports as refusing an endorsement. */
function refusingOrgs(error: SecureIdLedgerError): string[] {
  const cause = error.cause;
  return cause instanceof GatewayError ? cause.details.map((d) => d.mspId) : [];
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
    // Too few endorsers answered and no chaincode refused: the policy could not be met for want of peers,
    // which the embedded ledger (and a caller deciding whether to retry) calls unavailable too.
    // Fabric says it two ways, depending on whether discovery has noticed the peers are gone yet: the
    // endorsements fail (ABORTED, every peer unreachable), or no peer set can be chosen at all.
    const peersDown =
      (code === (grpc.status.ABORTED as number) &&
        error.details.length > 0 &&
        error.details.every((d) => UNREACHABLE_PEER.test(d.message))) ||
      (code === (grpc.status.FAILED_PRECONDITION as number) && NO_PEER_COMBINATION.test(error.message));
    const kind: LedgerErrorKind =
      code === (grpc.status.UNAVAILABLE as number) || peersDown
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
