import { AgentError } from "../common/agentError.js";

/** The reading store refused an operation or cannot be used; nothing was changed. */
export class StoreError extends AgentError {
  override readonly name = "StoreError";
}
