import { verifyTypedData } from "ethers";
import { z } from "zod";

import {
  meterCommandDomain,
  meterCommandTypes,
  mutableTypes,
  parseMeterCommandParams,
  signedMeterCommandSchema,
  type Address,
  type MeterCommandRequest,
} from "@gridmesh/contracts";

import type { CommandAuthority } from "./commandExecutor.js";
import {
  CommandExpiredError,
  CommandMalformedError,
  CommandParamsError,
  CommandUnauthorizedError,
  CommandWrongMeterError,
} from "./commandErrors.js";

export interface CommandVerifierOptions {
  /** This agent's meter: commands for any other are refused. */
  meter: Address;
  /** The chain of the EIP-712 domain the controllers sign for. */
  chainId: bigint;
  /** Controllers whose signed commands this meter obeys. */
  controllers: readonly Address[];
  /**
   * Latest expiry accepted, in seconds from now; 3600 by default. A command valid for days would be
   * a standing order anyone holding it could play at a time of their choosing.
   */
  maxLifetimeSeconds?: number;
}

export interface VerifiedCommand {
  request: MeterCommandRequest;
  authority: CommandAuthority;
}

const types = mutableTypes(meterCommandTypes);

/**
 * Checks a command request body, cheapest and least revealing first: its form, then who signed it,
 * and only for a controller's command the meter, expiry and parameters. The nonce is the executor's
 * to check, in the transaction that applies the command. Throws a `CommandError` naming what failed.
 */
export function verifyCommand(
  body: unknown,
  options: CommandVerifierOptions,
  nowMs: number,
): VerifiedCommand {
  const parsed = signedMeterCommandSchema.safeParse(body);
  if (!parsed.success) {
    throw new CommandMalformedError(`not a signed meter command: ${describeIssues(parsed.error)}`);
  }
  const { command, signature } = parsed.data;

  let signer: Address;
  try {
    signer = verifyTypedData(meterCommandDomain(options.chainId), types, command, signature) as Address;
  } catch (cause) {
    throw new CommandUnauthorizedError("the signature is not a valid EIP-712 signature", {}, cause);
  }
  const controller = options.controllers.find((c) => c.toLowerCase() === signer.toLowerCase());
  if (controller === undefined) {
    throw new CommandUnauthorizedError(
      `the command is signed by ${signer}, which is not a controller of this meter`,
      {
        signer,
      },
    );
  }

  if (command.meter.toLowerCase() !== options.meter.toLowerCase()) {
    throw new CommandWrongMeterError(
      `the command is for meter ${command.meter}, this is meter ${options.meter}`,
      {
        meter: command.meter,
      },
    );
  }

  const nowSeconds = BigInt(Math.floor(nowMs / 1000));
  if (command.expiresAt <= nowSeconds) {
    throw new CommandExpiredError(
      `the command expired at ${command.expiresAt}, it is now ${nowSeconds} (unix seconds)`,
      {
        expiresAt: command.expiresAt.toString(),
        now: nowSeconds.toString(),
      },
    );
  }
  const latest = nowSeconds + BigInt(options.maxLifetimeSeconds ?? 3600);
  if (command.expiresAt > latest) {
    throw new CommandParamsError(
      `the command expires at ${command.expiresAt}, after the latest accepted expiry ${latest} (unix seconds)`,
      { expiresAt: command.expiresAt.toString(), latest: latest.toString() },
    );
  }

  let request: MeterCommandRequest;
  try {
    request = parseMeterCommandParams(command.command, command.params);
  } catch (cause) {
    if (!(cause instanceof z.ZodError)) throw cause;
    const issues = describeIssues(cause);
    throw new CommandParamsError(
      `invalid params for ${command.command}: ${issues}`,
      { command: command.command },
      cause,
    );
  }
  return { request, authority: { controller, nonce: command.nonce } };
}

/** One line per issue: `command.nonce: must be at least 1`. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`))
    .join("; ");
}
