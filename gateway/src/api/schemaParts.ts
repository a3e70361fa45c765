import { z } from "zod";

/** The pieces every API schema file builds its bodies from. */

/** An address as the API answers it: lower-case hex. */
export const lowerAddress = z.string().regex(/^0x[0-9a-f]{40}$/);
export const timestamp = z.iso.datetime();
export const count = z.number().int().nonnegative();

/** One page of a list: its items and the cursor of the next page (null on the last). */
export const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), nextCursor: z.string().nullable() });
