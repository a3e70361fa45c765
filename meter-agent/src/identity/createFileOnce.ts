import { link, open, unlink } from "node:fs/promises";

/**
 * Writes `text` at `path` (mode 0600) only if nothing is there. It is written and synced beside the
 * target, then hard-linked into place, which fails rather than replace an existing file: a crash never
 * leaves half a file, and a second run never destroys the first one's key, shard or document.
 */
export async function createFileOnce(path: string, text: string): Promise<"created" | "exists"> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, "wx", 0o600);
  try {
    await file.writeFile(text, "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(tmp, path);
    return "created";
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") return "exists";
    throw cause;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
