import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { documentHash, type IdentityDocument } from "@gridmesh/chaincode/client";
import { z } from "zod";

import { createFileOnce } from "./createFileOnce.js";
import { DeviceIdentityError } from "./identityErrors.js";

const documentSchema = z.strictObject({
  deviceId: z.string(),
  publicKey: z.string(),
  meter: z.string(),
  ownerMsp: z.string(),
  attributes: z
    .object({ manufacturer: z.string(), model: z.string(), serial: z.string() })
    .catchall(z.string()),
});

const deposit = z.strictObject({
  verifierMsp: z.string(),
  txId: z.string().nullable(),
  error: z.string().nullable(),
});

/** What the agent remembers of its identity's life; the ledger stays the authority. */
const stateSchema = z.strictObject({
  deviceId: z.string(),
  provisioned: z
    .strictObject({
      gateway: z.string(),
      ownerMsp: z.string(),
      meter: z.string(),
      txId: z.string(),
      at: z.string(),
    })
    .optional(),
  seal: z
    .strictObject({
      epoch: z.number().int().positive(),
      k: z.number().int(),
      verifiers: z.array(z.string()),
      sealTxId: z.string(),
      deposits: z.array(deposit),
      shardFile: z.string(),
      at: z.string(),
    })
    .optional(),
  lastVerification: z
    .strictObject({
      requestId: z.string(),
      epoch: z.number().int(),
      outcome: z.enum(["verified", "not-verified"]),
      verdictTxId: z.string().nullable(),
      activation: z
        .strictObject({ status: z.string(), txHash: z.string().nullable(), error: z.string().nullable() })
        .nullable(),
      error: z.string().nullable(),
      at: z.string(),
    })
    .optional(),
  revoked: z.strictObject({ reason: z.string(), txId: z.string(), at: z.string() }).optional(),
});

export type IdentityState = z.infer<typeof stateSchema>;

/**
 * The identity's files in the agent's data directory (`<dataDir>/identity/`): the identity document
 * (Keymaker encrypts it at every seal, so it is kept from provisioning on, written once), the
 * agent's record of what happened (state.json) and the device's sealed shard of each epoch.
 */
export class IdentityFiles {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "identity");
  }

  get documentPath(): string {
    return join(this.dir, "document.json");
  }

  get statePath(): string {
    return join(this.dir, "state.json");
  }

  shardPath(epoch: number): string {
    return join(this.dir, `device-shard-epoch-${epoch}.json`);
  }

  async readDocument(): Promise<IdentityDocument | undefined> {
    const json = await this.#readJson(this.documentPath);
    if (json === undefined) return undefined;
    const parsed = documentSchema.safeParse(json);
    if (!parsed.success) throw new DeviceIdentityError(`${this.documentPath} is not an identity document`);
    return parsed.data;
  }

  /**
   * Keeps `document` unless one is kept already: the same one is fine (provisioning again after an
   * interruption), a different one is refused, because the ledger holds the first one's hash.
   */
  async keepDocument(document: IdentityDocument): Promise<"created" | "kept already"> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const created = await createFileOnce(this.documentPath, `${JSON.stringify(document, null, 2)}\n`);
    if (created === "created") return "created";
    const kept = await this.readDocument();
    if (kept === undefined || documentHash(kept) !== documentHash(document)) {
      throw new DeviceIdentityError(
        `${this.documentPath} already holds a different identity document (the one provisioned or being ` +
          "provisioned); the ledger registers one per device key",
      );
    }
    return "kept already";
  }

  /** Drops a document the gateway refused outright, so that a corrected one can be provisioned. */
  async forgetDocument(): Promise<void> {
    await rm(this.documentPath, { force: true });
  }

  async readState(deviceId: string): Promise<IdentityState> {
    const json = await this.#readJson(this.statePath);
    if (json === undefined) return { deviceId };
    const parsed = stateSchema.safeParse(json);
    if (!parsed.success)
      throw new DeviceIdentityError(`${this.statePath} is damaged: ${parsed.error.message}`);
    if (parsed.data.deviceId !== deviceId) {
      throw new DeviceIdentityError(
        `${this.statePath} is about device ${parsed.data.deviceId}, but the device key is ${deviceId}`,
      );
    }
    return parsed.data;
  }

  /** Replaces the state with `update(state)`, atomically (written beside it, then renamed over it). */
  async updateState(
    deviceId: string,
    update: (state: IdentityState) => IdentityState,
  ): Promise<IdentityState> {
    const next = stateSchema.parse(update(await this.readState(deviceId)));
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.statePath);
    return next;
  }

  async #readJson(path: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new DeviceIdentityError(
        `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
        {
          cause,
        },
      );
    }
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new DeviceIdentityError(`${path} is not valid JSON`, { cause });
    }
  }
}
