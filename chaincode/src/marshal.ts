/**
 * Deterministic JSON for everything the chaincode writes to the ledger. Every endorsing peer must
 * produce byte-identical write sets, so object keys are sorted at every depth and values JSON
 * cannot represent exactly are refused instead of being silently changed (NaN becoming null,
 * undefined vanishing from arrays, a Date depending on toJSON).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class MarshalError extends Error {
  override readonly name = "MarshalError";
}

export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

/** Canonical JSON as UTF-8 bytes, the form `putState` takes. */
export function marshal(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

export function unmarshal(bytes: Uint8Array, what: string): JsonValue {
  if (bytes.length === 0) throw new MarshalError(`${what}: no data`);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as JsonValue;
  } catch (cause) {
    throw new MarshalError(`${what}: not valid UTF-8 JSON`, { cause });
  }
}

function encode(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new MarshalError(`${path}: ${value} is not representable in JSON`);
      // -0 would be written as 0 by some encoders and as -0 by others.
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case "object":
      break;
    default:
      throw new MarshalError(`${path}: values of type ${typeof value} cannot be stored (use a string)`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => encode(item, `${path}[${i}]`)).join(",")}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new MarshalError(`${path}: only plain objects can be stored, not ${value.constructor.name}`);
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    // Code-unit order, not locale order: identical on every peer whatever its locale.
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${encode(v, `${path}.${k}`)}`).join(",")}}`;
}
