import { GatewayError } from "../common/errors.js";

/** A request names a controller the fleet (or the CIDB) does not have. */
export class UnknownControllerError extends GatewayError {
  override readonly name = "UnknownControllerError";
  readonly controllerIds: readonly string[];

  constructor(controllerIds: readonly string[], where = "the fleet") {
    super(`no controller ${controllerIds.join(", ")} in ${where}`, { details: { controllerIds } });
    this.controllerIds = controllerIds;
  }
}

/** A utility command that cannot be queued as given; `issues` name each bad field. */
export class CommandRejectedError extends GatewayError {
  override readonly name = "CommandRejectedError";
  readonly issues: readonly { path: string; message: string }[];

  constructor(issues: { path: string; message: string }[]) {
    super(`invalid controller command: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
      details: { issues },
    });
    this.issues = issues;
  }
}
