import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** Marks a directory as the local system's, so a start may empty it. */
const MARKER = ".gridmesh-local";
/** What earlier versions of `npm start` left there without a marker. */
const EARLIER = new Set(["gateway-db", "secure-id.sqlite", "secure-id.sqlite-wal", "secure-id.sqlite-shm"]);

/**
 * Empties `dir` for a new start (each start is a new chain, so whatever was stored about the last one
 * is void) and returns its logs directory. A directory holding anything else than an earlier start's
 * files is refused rather than emptied: `--data-dir .` must not delete someone's work.
 */
export async function prepareDataDir(dir: string): Promise<string> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException): string[] => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  if (entries.length > 0 && !entries.includes(MARKER) && !entries.every((e) => EARLIER.has(e)))
    throw new Error(
      `${dir} holds files that are not the local system's (${entries.slice(0, 3).join(", ")}…); ` +
        "pass a new or empty --data-dir",
    );
  await rm(dir, { recursive: true, force: true });
  const logsDir = path.join(dir, "logs");
  await mkdir(logsDir, { recursive: true });
  await writeFile(path.join(dir, MARKER), "npm start's data directory: emptied at every start\n");
  return logsDir;
}
