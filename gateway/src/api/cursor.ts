import { z } from "zod";

/**
 * Opaque keyset cursors: the sort key of a page's last row, tagged with the list it belongs to,
 * as base64url JSON. Keyset paging stays correct while rows are added between pages, and a
 * cursor from another list, edited or truncated, is a 400 rather than a surprise page.
 */
export interface CursorCodec<K extends readonly string[]> {
  /** The `cursor` query parameter: optional, decoding to the keys. */
  param: z.ZodOptional<z.ZodType<K, string>>;
  encode(keys: K): string;
}

export function cursorCodec<K extends readonly string[]>(list: string, keys: z.ZodType<K>): CursorCodec<K> {
  const payload = z.strictObject({ l: z.literal(list), k: keys });
  const param = z
    .string()
    .max(1024, `is not a cursor of ${list}`)
    .transform((text, ctx) => {
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
      } catch {
        json = undefined;
      }
      const parsed = payload.safeParse(json);
      if (!parsed.success) {
        ctx.addIssue({ code: "custom", message: `is not a cursor of ${list}` });
        return z.NEVER;
      }
      return parsed.data.k;
    })
    .optional()
    .describe("nextCursor of the previous page; omit for the first page");
  return {
    param,
    encode: (k) => Buffer.from(JSON.stringify({ l: list, k })).toString("base64url"),
  };
}

/** Cursor key parts: they go into SQL as parameters, so they are checked as strictly as any input. */
export const decimalKey = z.string().regex(/^(0|[1-9][0-9]{0,77})$/);
export const int32Key = z.string().regex(/^(0|[1-9][0-9]{0,8})$/);
export const addressKey = z.string().regex(/^0x[0-9a-f]{40}$/);

/**
 * One page of `limit` rows from `rows` fetched with LIMIT limit + 1: the extra row only tells that
 * another page exists, and the cursor points after the page's last row.
 */
export function pageOf<R, K extends readonly string[]>(
  rows: readonly R[],
  limit: number,
  codec: CursorCodec<K>,
  keyOf: (row: R) => K,
): { rows: R[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows: [...rows], nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: codec.encode(keyOf(page.at(-1)!)) };
}
