import { AgentError } from "../common/agentError.js";

/** The key cannot be loaded, created or used; the message says why without revealing secrets. */
export class KeystoreError extends AgentError {
  override readonly name = "KeystoreError";
}
