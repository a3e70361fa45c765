import { GatewayError } from "../../common/errors.js";

/**
 * - `network`: no answer (refused, reset, DNS);
 * - `timeout`: no complete answer in time;
 * - `status`: the controller answered with an error status;
 * - `invalid-response`: it answered 2xx with a body that breaks the contract.
 */
export type ControllerFailureKind = "network" | "timeout" | "status" | "invalid-response";

// Statuses that describe the moment or this utility's set-up (token, URL), not the request itself:
// trying again later, or after an operator fixes the fleet, can succeed.
const RETRYABLE_STATUSES = new Set([401, 403, 404, 408, 409, 425, 429]);

/**
 * A request to a microgrid controller failed. The message names the controller, the request and
 * the controller's own explanation; `refused` is true when the controller rejected the request as
 * such (a 4xx other than the transient ones), which sending it again cannot change.
 */
export class ControllerRequestError extends GatewayError {
  override readonly name = "ControllerRequestError";
  readonly controllerId: string;
  readonly kind: ControllerFailureKind;
  /** The HTTP status, when the controller answered. */
  readonly status: number | undefined;
  /** The controller's error message, when it gave one. */
  readonly controllerMessage: string | undefined;

  constructor(
    controllerId: string,
    request: string,
    failure: { kind: ControllerFailureKind; status?: number; controllerMessage?: string; detail?: string },
    cause?: unknown,
  ) {
    const what =
      failure.kind === "status"
        ? `answered ${failure.status}${failure.controllerMessage === undefined ? "" : `: ${failure.controllerMessage}`}`
        : failure.kind === "timeout"
          ? `did not answer in time${failure.detail === undefined ? "" : ` (${failure.detail})`}`
          : failure.kind === "network"
            ? `is unreachable${failure.detail === undefined ? "" : `: ${failure.detail}`}`
            : `answered outside the contract: ${failure.detail ?? "unexpected body"}`;
    const retryable =
      failure.kind !== "status" ||
      failure.status === undefined ||
      failure.status >= 500 ||
      RETRYABLE_STATUSES.has(failure.status);
    super(`controller ${controllerId}: ${request} ${what}`, {
      retryable,
      cause,
      details: {
        controllerId,
        request,
        kind: failure.kind,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        ...(failure.controllerMessage === undefined ? {} : { controllerMessage: failure.controllerMessage }),
      },
    });
    this.controllerId = controllerId;
    this.kind = failure.kind;
    this.status = failure.status;
    this.controllerMessage = failure.controllerMessage;
  }

  /** The controller refused the request itself: sending it again unchanged cannot succeed. */
  get refused(): boolean {
    return !this.retryable;
  }
}
