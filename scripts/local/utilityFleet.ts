import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";

import type { HomeSpec } from "./homeSpecs.js";
import { monthName } from "./simulatedClock.js";

/** A home as the utility knows it: its meter and where its agent takes commands. */
export interface FleetHome {
  spec: HomeSpec;
  meter: `0x${string}`;
  commandsUrl: string;
}

export interface FleetController {
  id: string;
  url: string;
  /** The bearer token the utility sends it. */
  token: string;
}

export interface UtilityFiles {
  fleetFile: string;
  supplyFile: string;
  operatorToken: string;
  operatorTokenSha256: string;
}

export const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** A fresh random bearer token. */
export const newToken = (prefix: string) => `${prefix}-${randomBytes(24).toString("hex")}`;

/**
 * The utility's files: the fleet (controllers, the homes' customer accounts and meters), one token
 * file per controller, and the regional grid's supply feed (NORMAL), plus the operator token the
 * local system uses for the operator API (billing rates).
 */
export async function writeUtilityFiles(
  dir: string,
  controllers: readonly FleetController[],
  homes: readonly FleetHome[],
): Promise<UtilityFiles> {
  for (const c of controllers) await writeFile(path.join(dir, `${c.id}.token`), c.token, { mode: 0o600 });
  const fleet = {
    controllers: controllers.map((c) => {
      const own = homes.filter((h) => h.spec.controller === c.id);
      return {
        id: c.id,
        location: "residential",
        url: c.url,
        tokenFile: `${c.id}.token`,
        accounts: own.map((h) => ({
          accountNumber: h.spec.customerAccount,
          initialBaseBill: h.spec.initialBaseBill.toString(),
        })),
        meters: own.map((h) => ({
          address: h.meter,
          account: h.spec.customerAccount,
          url: h.commandsUrl,
          function: h.spec.battery === undefined ? "meter" : "meter_with_battery",
          direction: "bidirectional",
        })),
      };
    }),
  };
  const fleetFile = path.join(dir, "fleet.json");
  await writeFile(fleetFile, `${JSON.stringify(fleet, null, 2)}\n`);
  const supplyFile = path.join(dir, "regional-supply.json");
  await writeFile(supplyFile, `${JSON.stringify({ supply: "NORMAL" })}\n`);
  const operatorToken = newToken("operator");
  return { fleetFile, supplyFile, operatorToken, operatorTokenSha256: sha256Hex(operatorToken) };
}

/**
 * Time-of-use rates for the simulated start's month and the two after it, so the utility can bill
 * the first month as soon as it ends (it bills from the first month with rates). Token base units per
 * kWh; peak 17:00–21:00 in the billing zone.
 */
export async function setBillingRates(
  gatewayUrl: string,
  operatorToken: string,
  simStartMs: number,
): Promise<void> {
  const start = new Date(simStartMs);
  for (let m = 0; m < 3; m++) {
    const month = monthName(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + m, 1));
    const response = await fetch(`${gatewayUrl}/v1/operator/billing/rates`, {
      method: "POST",
      headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        month,
        peakRate: "280000",
        offPeakRate: "120000",
        peakStartHour: 17,
        peakEndHour: 21,
      }),
    });
    if (!response.ok)
      throw new Error(
        `setting ${month}'s billing rates answered ${response.status}: ${await response.text()}`,
      );
  }
}
