import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

import { z } from "zod";

import type { Address } from "@gridmesh/contracts";

import { ConfigError } from "../../common/errors.js";

// The same rules as the CIDB's CHECK constraints, so that a fleet that loads also stores.
const controllerId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1–64 of a-z, 0-9, '.', '_', '-', starting alphanumeric");
const accountNumber = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1–64 of A-Z, a-z, 0-9, '.', '_', '-'");
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
/** Token base units: a decimal string, never a JSON number (which loses precision past 2^53). */
const money = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,76})$/, "must be a decimal string of token base units")
  .transform((s) => BigInt(s));

const meterSchema = z.strictObject({
  address: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be the meter's 0x address")
    .transform((a) => a.toLowerCase() as Address),
  account: accountNumber,
  /** The meter agent's command server, where the controller reaches it; optional for the utility. */
  url: httpUrl.optional(),
  function: z.enum(["meter", "meter_with_battery"]),
  direction: z.enum(["import", "export", "bidirectional"]),
});

const controllerSchema = z.strictObject({
  id: controllerId,
  location: z.enum(["residential", "apartment", "emergency"]),
  url: httpUrl,
  /** A file holding the bearer token this utility sends to the controller (relative to the fleet file). */
  tokenFile: z.string().min(1),
  accounts: z.array(z.strictObject({ accountNumber, initialBaseBill: money })),
  meters: z.array(meterSchema),
});

export const fleetSchema = z
  .strictObject({ controllers: z.array(controllerSchema).min(1, "must list at least one controller") })
  .superRefine((fleet, ctx) => {
    const seen = { controller: new Map<string, number>(), account: new Map<string, string>() };
    const meters = new Map<string, string>();
    fleet.controllers.forEach((c, ci) => {
      if (seen.controller.has(c.id))
        ctx.addIssue({ code: "custom", path: ["controllers", ci, "id"], message: `${c.id} is listed twice` });
      seen.controller.set(c.id, ci);
      c.accounts.forEach((a, ai) => {
        const owner = seen.account.get(a.accountNumber);
        if (owner !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["controllers", ci, "accounts", ai, "accountNumber"],
            message: `${a.accountNumber} is already an account of controller ${owner}`,
          });
        seen.account.set(a.accountNumber, c.id);
      });
      const own = new Set(c.accounts.map((a) => a.accountNumber));
      c.meters.forEach((m, mi) => {
        const at = ["controllers", ci, "meters", mi];
        const other = meters.get(m.address);
        if (other !== undefined)
          ctx.addIssue({
            code: "custom",
            path: [...at, "address"],
            message: `${m.address} is already a meter of controller ${other}`,
          });
        meters.set(m.address, c.id);
        if (!own.has(m.account))
          ctx.addIssue({
            code: "custom",
            path: [...at, "account"],
            message: `${m.account} is not an account of controller ${c.id}`,
          });
      });
    });
  });

export type FleetController = z.output<typeof controllerSchema>;
export type FleetMeter = z.output<typeof meterSchema>;

/** A validated fleet; token files are absolute paths, their contents stay on disk. */
export interface Fleet {
  controllers: FleetController[];
}

/**
 * Reads and validates a fleet file (JSON), reporting every problem at once with its place in the
 * file, and checks that each controller's token file holds a token. Tokens are read again at each
 * request (`readControllerToken`), so a rotated token needs no restart and no token sits in memory
 * longer than a request.
 */
export async function loadFleet(path: string): Promise<Fleet> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError([`fleet file ${path}: cannot be read: ${(error as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`fleet file ${path}: is not JSON: ${(error as Error).message}`]);
  }
  const parsed = fleetSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `fleet file ${path}: ${i.path.map(String).join(".")}: ${i.message}`),
    );
  }
  const base = dirname(resolve(path));
  const controllers = parsed.data.controllers.map((c) => ({ ...c, tokenFile: resolve(base, c.tokenFile) }));
  const problems: string[] = [];
  for (const c of controllers) {
    try {
      await readControllerToken(c.tokenFile);
    } catch (error) {
      problems.push(`fleet file ${path}: controller ${c.id}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { controllers };
}

/** The bearer token in `file`: one line of printable characters without spaces. */
export async function readControllerToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(
      `token file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      {
        cause: error,
      },
    );
  }
  const token = text.replace(/\r?\n$/, "");
  // Never echo the content: a malformed token file may still hold most of a real token.
  if (!/^[\x21-\x7e]{16,4096}$/.test(token))
    throw new Error(
      `token file ${file} must hold one token of 16 or more printable characters without spaces`,
    );
  return token;
}
