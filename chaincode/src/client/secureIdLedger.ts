import { secureIdErrorCode, type SecureIdErrorCode } from "../protocol/errors.js";

/**
 * The one interface between Secure ID clients and a ledger running the SecureId chaincode: the embedded
 * one (same chaincode, in process) or a Fabric network through the Gateway. Arguments and results are
 * the chaincode's own strings and bytes; `SecureIdClient` gives them types.
 */
export interface SubmitOptions {
  /** The organisation whose client identity signs the proposal. */
  asOrg: string;
  transient?: Record<string, Uint8Array>;
  /** Endorse on exactly these organisations' peers (a shard deposit goes to its verifier's peer alone). */
  endorsingOrgs?: string[];
}

export interface EvaluateOptions {
  asOrg: string;
  /** Evaluate on this organisation's peer (a shard release); by default the caller's own. */
  targetOrg?: string;
}

export interface SubmitResult {
  txId: string;
  blockNumber: bigint;
  result: Uint8Array;
}

export interface LedgerEvent {
  blockNumber: bigint;
  txId: string;
  name: string;
  payload: Uint8Array;
}

/** Where to resume reading events; fabric-gateway's checkpointers satisfy it. */
export interface LedgerCheckpoint {
  getBlockNumber(): bigint | undefined;
  getTransactionId(): string | undefined;
}

export interface EventsOptions {
  asOrg: string;
  /** Ignored when the checkpoint holds a position. */
  startBlock?: bigint;
  checkpoint?: LedgerCheckpoint;
}

export interface CloseableEvents extends AsyncIterable<LedgerEvent> {
  close(): void;
}

export interface SecureIdLedger {
  submit(fn: string, args: readonly string[], options: SubmitOptions): Promise<SubmitResult>;
  evaluate(fn: string, args: readonly string[], options: EvaluateOptions): Promise<Uint8Array>;
  events(options: EventsOptions): Promise<CloseableEvents>;
  close(): Promise<void>;
}

/**
 * `endorse`: a peer refused the proposal (the chaincode threw; `code` says why). `commit`: ordered but
 * invalid (`status`, e.g. MVCC_READ_CONFLICT). `unavailable` and `timeout`: nothing was decided; retry.
 */
export type LedgerErrorKind = "endorse" | "evaluate" | "commit" | "unavailable" | "timeout";

export class SecureIdLedgerError extends Error {
  override readonly name = "SecureIdLedgerError";
  readonly code: SecureIdErrorCode | undefined;

  constructor(
    readonly kind: LedgerErrorKind,
    message: string,
    readonly context: { fn: string; org?: string; txId?: string; status?: string },
    options?: ErrorOptions,
  ) {
    super(`${context.fn}${context.org ? ` on ${context.org}` : ""}: ${message}`, options);
    this.code = secureIdErrorCode(message);
  }

  get retryable(): boolean {
    return (
      this.kind === "unavailable" ||
      this.kind === "timeout" ||
      this.context.status === "MVCC_READ_CONFLICT" ||
      this.context.status === "PHANTOM_READ_CONFLICT"
    );
  }
}
