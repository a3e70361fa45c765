import { GatewayError } from "../common/errors.js";

/**
 * The indexer could not advance: the node failed or answered inconsistently (retryable), or the
 * stored index contradicts itself or the contracts' ABIs (not retryable: someone must look).
 */
export class ChainIndexerError extends GatewayError {
  override readonly name = "ChainIndexerError";
}
