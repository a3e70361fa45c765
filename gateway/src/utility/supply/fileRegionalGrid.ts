import { readFile } from "node:fs/promises";

import { z } from "zod";

import { RegionalGridError, type PurchaseResult, type RegionalGrid } from "./regionalGrid.js";
import { simulatedGrant } from "./regionalGridApi.js";
import { supplyStatusSchema, type SupplyStatus } from "./supplyStatus.js";

/**
 * `{"supply": "CRITICAL", "maxGrantWh": "5000"}`: the status an operator declares for a drill, and
 * optionally how much one purchase may get (as a decimal string of watt-hours).
 */
export const supplyFileSchema = z.strictObject({
  supply: supplyStatusSchema,
  maxGrantWh: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,18})$/, "must be whole watt-hours as a decimal string")
    .optional(),
});

export type SupplyFile = z.infer<typeof supplyFileSchema>;

/**
 * The regional grid as a JSON file an operator edits, for drills and tests. It is read on every
 * question, so an edit takes effect at the next round; a missing or malformed file is an error,
 * exactly as an unreachable HTTP feed is.
 */
export class FileRegionalGrid implements RegionalGrid {
  readonly source: string;
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    this.source = `file:${path}`;
  }

  async status(): Promise<SupplyStatus> {
    return (await this.#read()).supply;
  }

  async purchase(wh: bigint): Promise<PurchaseResult> {
    if (wh <= 0n) throw new RangeError(`a purchase must be of at least 1 Wh, not ${wh}`);
    const file = await this.#read();
    const limit = file.maxGrantWh === undefined ? undefined : BigInt(file.maxGrantWh);
    return { requestedWh: wh, grantedWh: simulatedGrant(file.supply, wh, limit), supply: file.supply };
  }

  async #read(): Promise<SupplyFile> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      throw new RegionalGridError(`supply file ${this.#path} cannot be read: ${(error as Error).message}`, {
        details: { path: this.#path },
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new RegionalGridError(`supply file ${this.#path} is not JSON: ${(error as Error).message}`, {
        details: { path: this.#path },
        cause: error,
      });
    }
    const parsed = supplyFileSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "file"}: ${i.message}`);
      throw new RegionalGridError(`supply file ${this.#path} is malformed (${issues.join("; ")})`, {
        details: { path: this.#path, issues },
      });
    }
    return parsed.data;
  }
}
