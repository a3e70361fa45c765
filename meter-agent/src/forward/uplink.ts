import type { SignedReading } from "@gridmesh/contracts";

import { AgentError } from "../common/agentError.js";

/** What a receiver did with one reading of a batch. */
export type DeliveryOutcome =
  | { sequence: bigint; status: "delivered" | "duplicate" }
  /** The receiver can never take this reading (bad signature, past its deadline, …). */
  | { sequence: bigint; status: "rejected"; reason: string };

/**
 * Somewhere signed readings go: the gateway's HTTP endpoint or the settlement contract. `submit`
 * returns an outcome for some prefix of the batch in the uplink's order (possibly all of it; the rest
 * is offered again), or throws an `UplinkError` when the receiver cannot be reached or asks to wait.
 */
export interface Uplink {
  readonly name: string;
  /**
   * The order readings are offered in. The stack order (newest first, seed 000) suits receivers
   * that store readings in any order; the settlement contract needs each meter's readings in
   * sequence, so it takes the oldest first.
   */
  readonly order: "newest-first" | "oldest-first";
  /** Most readings offered at once. */
  readonly batchSize: number;
  submit(batch: readonly SignedReading[]): Promise<DeliveryOutcome[]>;
}

export class UplinkError extends AgentError {
  override readonly name = "UplinkError";
}
