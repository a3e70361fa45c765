import type { Context } from "fabric-contract-api";
import type { z } from "zod";

import { marshal, unmarshal } from "../marshal.js";
import { SecureIdError } from "../protocol/errors.js";

/**
 * The only ways the contract touches the ledger: read and parse a record, write canonical JSON, emit
 * the transaction's event, and read the transaction's own time and parties. Nothing here consults a
 * clock, a random source or the peer's environment beyond its MSP id, so every endorser computes the same.
 */
export async function readRecord<S extends z.ZodType>(
  ctx: Context,
  key: string,
  schema: S,
  what: string,
): Promise<z.infer<S> | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return parseStored(bytes, schema, what);
}

export async function readPrivateRecord<S extends z.ZodType>(
  ctx: Context,
  collection: string,
  key: string,
  schema: S,
  what: string,
): Promise<z.infer<S> | undefined> {
  const bytes = await ctx.stub.getPrivateData(collection, key);
  if (!bytes || bytes.length === 0) return undefined;
  return parseStored(bytes, schema, what);
}

function parseStored<S extends z.ZodType>(bytes: Uint8Array, schema: S, what: string): z.infer<S> {
  const parsed = schema.safeParse(unmarshal(bytes, what));
  if (!parsed.success) throw new Error(`${what}: stored record is damaged: ${parsed.error.message}`);
  return parsed.data;
}

export async function writeRecord(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, Buffer.from(marshal(value)));
}

export async function writePrivateRecord(ctx: Context, collection: string, key: string, value: unknown) {
  await ctx.stub.putPrivateData(collection, key, Buffer.from(marshal(value)));
}

/** Fabric keeps one event per transaction (a second setEvent replaces the first), so each emits once. */
export function emit(ctx: Context, name: string, payload: unknown): void {
  ctx.stub.setEvent(name, Buffer.from(marshal(payload)));
}

/** The proposal's timestamp, identical on every endorser; the only clock chaincode may read. */
export function txTime(ctx: Context): { seconds: number; iso: string } {
  const ts = ctx.stub.getTxTimestamp();
  const seconds = Number(ts.seconds.toString());
  return { seconds, iso: new Date(seconds * 1000 + Math.floor(ts.nanos / 1e6)).toISOString() };
}

export function isoAfter(seconds: number, delta: number): string {
  return new Date((seconds + delta) * 1000).toISOString();
}

export function secondsOf(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** The MSP of whoever signed the proposal. */
export function submitterMsp(ctx: Context): string {
  return ctx.clientIdentity.getMSPID();
}

/** The MSP of the peer running this chaincode (CORE_PEER_LOCALMSPID of the chaincode process). */
export function peerMsp(ctx: Context): string {
  return ctx.stub.getMspID();
}

export function txId(ctx: Context): string {
  return ctx.stub.getTxID();
}

/** Parses one transaction argument, naming it and what was wrong. */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, name: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SecureIdError(
      "SecureIdInvalidArgument",
      `${name}${issue && issue.path.length > 0 ? `.${issue.path.join(".")}` : ""}: ${issue?.message ?? "invalid"} ` +
        `(got ${JSON.stringify(value)?.slice(0, 200)})`,
    );
  }
  return parsed.data;
}

/** Parses a JSON-encoded argument (arrays and objects travel as JSON strings). */
export function parseJsonArg<S extends z.ZodType>(schema: S, text: string, name: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SecureIdError("SecureIdInvalidArgument", `${name}: not JSON (got ${text.slice(0, 200)})`);
  }
  return parseArg(schema, value, name);
}

/** Decimal integers without sign, exponent or leading zeros: one spelling per number. */
export function parseIntArg(text: string, name: string, min: number, max: number): number {
  if (!/^(0|[1-9][0-9]{0,8})$/.test(text)) {
    throw new SecureIdError(
      "SecureIdInvalidArgument",
      `${name}: expected a decimal integer, got ${JSON.stringify(text)}`,
    );
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw new SecureIdError("SecureIdInvalidArgument", `${name}: ${value} is outside ${min}..${max}`);
  }
  return value;
}
